"""Conv2d 2->4, 3x3, stride 2, padding 1, on 9x9."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1),
    )
    model.eval()
    return model, (torch.rand(1, 2, 9, 9) * 2 - 1,)
