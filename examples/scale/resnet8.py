"""ResNet-8 of the MLPerf Tiny image classification benchmark (CIFAR-10, 3x32x32), in PyTorch:
a 3x3 stem of 16 channels, three residual stacks of 16, 32 and 64 channels (the last two with
stride 2 and a 1x1 shortcut convolution), global average pooling and a 10-way linear layer.
About 12.5 M multiply-accumulates: the scale example, kept in examples/scale/ so that the
example tests (every examples/*.bundle at banking 1) do not simulate its 10^8 cycles each run.
Padding is symmetric (1), where Keras' 'same' pads stride-2 convolutions on one side only; the
output is the logits (no softmax)."""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from residual_cnn import randomize_batch_norms  # noqa: E402  (examples/residual_cnn.py)


class Stack(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 else nn.Identity()
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu2(y + self.shortcut(x))


class ResNet8(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.stack1 = Stack(16, 16, 1)
        self.stack2 = Stack(16, 32, 2)
        self.stack3 = Stack(32, 64, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.relu(self.bn(self.conv(x)))
        x = self.stack3(self.stack2(self.stack1(x)))
        return self.fc(self.flatten(self.pool(x)))


def build():
    torch.manual_seed(0)
    model = ResNet8()
    randomize_batch_norms(model)
    model.eval()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    return model, (x,)
