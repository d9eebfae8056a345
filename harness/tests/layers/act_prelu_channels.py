"""PReLU with one learned slope per channel (4 channels) after a Conv1d."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(2, 4, 3),
        nn.PReLU(4),
    )
    with torch.no_grad():
        model[1].weight.uniform_(-0.5, 0.5)
    model.eval()
    return model, (torch.rand(1, 2, 9) * 2 - 1,)
