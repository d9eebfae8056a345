"""MLP with sizes that are not powers of two: 13 -> 29 -> 7, ReLU in between."""
import torch
import torch.nn as nn


class UnevenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(13, 29)
        self.act = nn.ReLU()
        self.out = nn.Linear(29, 7)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


def build():
    torch.manual_seed(0)
    model = UnevenMLP().eval()
    x = torch.rand(1, 13) * 2 - 1
    return model, (x,)
