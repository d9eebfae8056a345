"""Conv1d 2->4, kernel 3, stride 2, padding 1, on length 11."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(2, 4, 3, stride=2, padding=1),
    )
    model.eval()
    return model, (torch.rand(1, 2, 11) * 2 - 1,)
