"""A bare nn.Sequential: its forward() is torch code, so nodes have no
location in this file (source.location is null)."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Dropout(0.5)).eval(), (torch.rand(1, 5),)
