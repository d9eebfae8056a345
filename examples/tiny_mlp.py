"""Small MLP on a (1, 2, 4) input: Flatten -> Linear(8, 6) -> ReLU -> Linear(6, 3, no bias)."""
import torch
import torch.nn as nn


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(8, 6)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(6, 3, bias=False)

    def forward(self, x):
        x = self.flatten(x)
        return self.fc2(self.act(self.fc1(x)))


def build():
    torch.manual_seed(0)
    model = TinyMLP().eval()
    x = torch.rand(1, 2, 4) * 2 - 1
    return model, (x,)
