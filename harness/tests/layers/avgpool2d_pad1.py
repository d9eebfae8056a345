"""AvgPool2d kernel 3, stride 2, padding 1 (count_include_pad) on an odd 7x7 input: divisor 9."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.AvgPool2d(3, stride=2, padding=1),
    )
    model.eval()
    return model, (torch.rand(1, 3, 7, 7) * 2 - 1,)
