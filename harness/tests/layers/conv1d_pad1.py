"""Conv1d 3->4, kernel 3, padding 1, on an odd length 11."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(3, 4, 3, padding=1),
    )
    model.eval()
    return model, (torch.rand(1, 3, 11) * 2 - 1,)
