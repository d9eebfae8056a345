"""AvgPool2d kernel 2 (stride 2, floor) on an odd 7x7 input."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.AvgPool2d(2),
    )
    model.eval()
    return model, (torch.rand(1, 3, 7, 7) * 2 - 1,)
