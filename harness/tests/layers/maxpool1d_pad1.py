"""MaxPool1d kernel 3, stride 2, padding 1 on an odd length 11 input."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.MaxPool1d(3, stride=2, padding=1),
    )
    model.eval()
    return model, (torch.rand(1, 3, 11) * 2 - 1,)
