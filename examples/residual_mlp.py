"""Residual block with odd sizes: y = Linear(12, 7)(x + ReLU(Linear(12, 12)(x)))."""
import torch
import torch.nn as nn


class ResidualMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 12)
        self.act = nn.ReLU()
        self.head = nn.Linear(12, 7)

    def forward(self, x):
        h = self.act(self.fc(x))
        h = h + x  # residual connection
        return self.head(h)


def build():
    torch.manual_seed(0)
    model = ResidualMLP().eval()
    x = torch.rand(1, 12) * 2 - 1
    return model, (x,)
