"""Linear-BatchNorm1d-ReLU: the batch norm is folded into the linear layer."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(10, 6),
        nn.BatchNorm1d(6),
        nn.ReLU(),
    )
    with torch.no_grad():
        bn = model[1]
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.25, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    model.eval()
    return model, (torch.rand(1, 10) * 2 - 1,)
