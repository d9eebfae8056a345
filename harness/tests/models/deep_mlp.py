"""Test model: a deeper 10 -> 10 -> 10 -> 10 MLP, the middle layer without bias."""
import torch
import torch.nn as nn


class DeepMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(10, 10),
            nn.ReLU(),
            nn.Linear(10, 10, bias=False),
            nn.ReLU(),
            nn.Linear(10, 10),
        )

    def forward(self, x):
        return self.layers(x)


def build():
    torch.manual_seed(10)
    x = torch.rand(1, 10) * 2 - 1
    return DeepMLP().eval(), (x,)
