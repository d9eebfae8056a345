"""Error case: torch.cumsum is not a supported operator."""
import torch
import torch.nn as nn


class WithCumsum(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        return torch.cumsum(h, dim=1)  # UNSUPPORTED-LINE


def build():
    return WithCumsum().eval(), (torch.rand(1, 4),)
