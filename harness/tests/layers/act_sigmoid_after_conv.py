"""Conv2d then Sigmoid (a lookup table on a banked feature map)."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.Sigmoid(),
    )
    model.eval()
    return model, (torch.rand(1, 2, 6, 6) * 8 - 4,)
