"""A 16x16x16 matrix multiply: each of the 16 rows of a (1, 16, 16) input goes
through the same bias-free Linear(16, 16), i.e. Y = X @ W^T."""
import torch
import torch.nn as nn


class MatMul(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 16, bias=False)

    def forward(self, x):
        return self.proj(x)


def build():
    torch.manual_seed(0)
    model = MatMul().eval()
    x = torch.rand(1, 16, 16) * 2 - 1
    return model, (x,)
