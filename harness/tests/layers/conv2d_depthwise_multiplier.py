"""Depthwise Conv2d with 2 outputs per channel (3 -> 6, groups 3), 3x3, on 5x5."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3, groups=3),
    )
    model.eval()
    return model, (torch.rand(1, 3, 5, 5) * 2 - 1,)
