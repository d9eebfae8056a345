"""Error case: adding a scalar constant (only tensor + tensor is supported)."""
import torch
import torch.nn as nn


class ScalarAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) + 1.0


def build():
    return ScalarAdd().eval(), (torch.rand(1, 4),)
