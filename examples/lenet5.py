"""LeNet-5 on a 1x28x28 image: conv5(6)-ReLU-maxpool2 - conv5(16)-ReLU-maxpool2 - fc120-fc84-fc10.

With `torch.manual_seed(0)` and PyTorch's default initialization this is also the LeNet-5 of the
numerics benchmark (scripts/bench_numerics.py), which follows hls4ml's reference setup.
"""
import torch
import torch.nn as nn


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)  # 28x28 -> 24x24
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)  # -> 12x12
        self.conv2 = nn.Conv2d(6, 16, 5)  # -> 8x8
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)  # -> 4x4
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)


def build():
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.rand(1, 1, 28, 28) * 2 - 1
    return model, (x,)
