"""Conv2d-ReLU, Flatten, Linear: the classifier head of a CNN."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 5 * 5, 5),
    )
    model.eval()
    return model, (torch.rand(1, 2, 7, 7) * 2 - 1,)
