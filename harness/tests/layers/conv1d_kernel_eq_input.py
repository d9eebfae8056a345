"""Conv1d 3->5 whose kernel (6) is the input length: one output position."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(3, 5, 6),
    )
    model.eval()
    return model, (torch.rand(1, 3, 6) * 2 - 1,)
