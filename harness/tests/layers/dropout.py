"""Linear-Dropout(0.5)-ReLU-Linear in eval mode: the dropout is the identity."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(12, 8),
        nn.Dropout(0.5),
        nn.ReLU(),
        nn.Linear(8, 3),
    )
    model.eval()
    return model, (torch.rand(1, 12) * 2 - 1,)
