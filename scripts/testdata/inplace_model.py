"""In-place ops (nn.ReLU(inplace=True), `h += x`) inside nested blocks."""
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        h = self.act(self.fc(x))  # BLOCK-FC-LINE
        h += x
        return h


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(6), Block(6)])
        self.drop = nn.Dropout(0.25)
        self.out = nn.Linear(6, 2)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        x = self.drop(x).detach()
        return self.out(x.view(1, 6))


def build():
    torch.manual_seed(0)
    return Net().eval(), (torch.rand(1, 6) * 2 - 1,)
