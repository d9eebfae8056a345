"""Error case: nn.Sigmoid is not a supported operator."""
import torch
import torch.nn as nn


class WithSigmoid(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.act = nn.Sigmoid()

    def forward(self, x):
        h = self.fc(x)
        return self.act(h)  # UNSUPPORTED-LINE


def build():
    return WithSigmoid().eval(), (torch.rand(1, 4),)
