"""Test model: a residual block whose output is the add itself,
y = x + fc2(relu(fc1(x))), with 11 features."""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(11, 11)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(11, 11)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))


def build():
    torch.manual_seed(11)
    x = torch.rand(1, 11) * 2 - 1
    return ResidualBlock().eval(), (x,)
