"""Test model: BatchNorm2d straight on a [1, 3, 4, 5] input (nothing to fold it into: a
per-channel scale_shift on axis 1), PReLU with one slope per channel, then Sigmoid, Tanh, ELU,
GELU and SiLU as lookup tables (clamp and identity above), summed with saturating adds."""
import torch
import torch.nn as nn


class Bn2dTables(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3)
        self.prelu = nn.PReLU(3)

    def forward(self, x):
        a = self.prelu(self.bn(x))
        return torch.sigmoid(a) + torch.tanh(a) + nn.functional.elu(a) + nn.functional.gelu(a) + nn.functional.silu(a)


def build():
    torch.manual_seed(5)
    model = Bn2dTables()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
        model.prelu.weight.uniform_(0.1, 0.5)
    x = torch.rand(1, 3, 4, 5) * 8 - 4
    return model.eval(), (x,)
