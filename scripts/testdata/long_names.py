"""A layer whose attribute name has 300 characters: its weight's tensor name is longer than a
file name may be."""
import torch
import torch.nn as nn

LONG = "layer_" + "x" * 294


class LongNames(nn.Module):
    def __init__(self):
        super().__init__()
        setattr(self, LONG, nn.Linear(4, 2))

    def forward(self, x):
        return getattr(self, LONG)(x)


def build():
    return LongNames().eval(), (torch.rand(1, 4),)
