"""Linear then Softmax over the last dim, as the model output."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(10, 6),
        nn.Softmax(dim=-1),
    )
    model.eval()
    return model, (torch.rand(1, 10) * 4 - 2,)
