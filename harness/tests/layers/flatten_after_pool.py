"""Conv2d-ReLU-MaxPool2d, Flatten, Linear."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 3 * 3, 4),
    )
    model.eval()
    return model, (torch.rand(1, 3, 6, 6) * 2 - 1,)
