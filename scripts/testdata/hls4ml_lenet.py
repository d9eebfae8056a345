"""LeNet-5 on 1x28x28 as in the hls4ml reference setup: conv5-pool-conv5-pool-fc120-fc84-fc10
with ReLU, torch.manual_seed(0) default init, 100 inputs from
numpy.random.default_rng(0).uniform(-1, 1) (issue 12's numerics target)."""
import numpy as np
import torch
import torch.nn as nn


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def build():
    torch.manual_seed(0)
    x = np.random.default_rng(0).uniform(-1, 1, (100, 1, 28, 28))
    return LeNet5().eval(), (torch.tensor(x, dtype=torch.float32),)
