"""Test model: an MLP with odd, coprime sizes 7 -> 19 -> 3 and a ReLU."""
import torch
import torch.nn as nn


class OddMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(7, 19)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(19, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def build():
    torch.manual_seed(7)
    x = torch.rand(1, 7) * 2 - 1
    return OddMLP().eval(), (x,)
