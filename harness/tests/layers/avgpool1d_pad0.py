"""AvgPool1d kernel 2 (stride 2, floor) on an odd length 11 input."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.AvgPool1d(2),
    )
    model.eval()
    return model, (torch.rand(1, 3, 11) * 2 - 1,)
