"""A 4x4x4 matrix multiply: each of the 4 rows of a (1, 4, 4) input goes
through the same bias-free Linear(4, 4), i.e. Y = X @ W^T."""
import torch
import torch.nn as nn


class MatMul(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4, bias=False)

    def forward(self, x):
        return self.proj(x)


def build():
    torch.manual_seed(0)
    model = MatMul().eval()
    x = torch.rand(1, 4, 4) * 2 - 1
    return model, (x,)
