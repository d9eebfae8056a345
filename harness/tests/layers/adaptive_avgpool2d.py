"""Conv2d-ReLU, AdaptiveAvgPool2d(1), Flatten, Linear: global average pooling."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    )
    model.eval()
    return model, (torch.rand(1, 3, 6, 6) * 2 - 1,)
