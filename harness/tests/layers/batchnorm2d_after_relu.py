"""Conv2d-ReLU-BatchNorm2d with non-trivial statistics: not folded (a per-channel scale and shift)."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.ReLU(),
        nn.BatchNorm2d(4),
    )
    with torch.no_grad():
        bn = model[2]
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.25, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    model.eval()
    return model, (torch.rand(1, 2, 6, 6) * 2 - 1,)
