"""Pointwise Conv2d 5->3 (1x1 kernel) on 4x4."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(5, 3, 1),
    )
    model.eval()
    return model, (torch.rand(1, 5, 4, 4) * 2 - 1,)
