"""Depthwise Conv2d (groups = channels = 4), 3x3, padding 1, on 6x6."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(4, 4, 3, padding=1, groups=4),
    )
    model.eval()
    return model, (torch.rand(1, 4, 6, 6) * 2 - 1,)
