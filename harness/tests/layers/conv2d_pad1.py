"""Conv2d 3->4, 3x3, padding 1, on an odd 7x7 input."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
    )
    model.eval()
    return model, (torch.rand(1, 3, 7, 7) * 2 - 1,)
