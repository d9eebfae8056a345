"""Conv2d 2->3 without bias, 3x2 kernel, stride (2, 1), padding (1, 0), on 7x6."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), bias=False),
    )
    model.eval()
    return model, (torch.rand(1, 2, 7, 6) * 2 - 1,)
