"""Conv2d 2->3 whose 5x5 kernel is the whole input: a 1x1 output."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 5),
    )
    model.eval()
    return model, (torch.rand(1, 2, 5, 5) * 2 - 1,)
