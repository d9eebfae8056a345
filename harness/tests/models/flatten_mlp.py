"""Test model: a (1, 3, 5) input flattened to 15 features, then 15 -> 6 -> 2."""
import torch
import torch.nn as nn


class FlattenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(15, 6)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(6, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.flatten(x))))


def build():
    torch.manual_seed(15)
    x = torch.rand(1, 3, 5) * 2 - 1
    return FlattenMLP().eval(), (x,)
