"""Conv2d-Dropout2d-ReLU in eval mode."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3),
        nn.Dropout2d(0.25),
        nn.ReLU(),
    )
    model.eval()
    return model, (torch.rand(1, 2, 5, 5) * 2 - 1,)
