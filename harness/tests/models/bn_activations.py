"""Test model: a BatchNorm1d that cannot be folded (a ReLU sits between it and the Linear) with
non-trivial running statistics, then PReLU (one slope per feature), ReLU6, LeakyReLU,
Threshold and Hardtanh: scale_shift, clamp, prelu and threshold on [1, 8] features."""
import torch
import torch.nn as nn


class BnActivations(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.relu = nn.ReLU()
        self.bn = nn.BatchNorm1d(8)
        self.relu6 = nn.ReLU6()
        self.prelu = nn.PReLU(8)
        self.fc2 = nn.Linear(8, 8)
        self.leaky = nn.LeakyReLU(0.1)
        self.threshold = nn.Threshold(0.25, -0.5)
        self.fc3 = nn.Linear(8, 5)
        self.hardtanh = nn.Hardtanh(-0.75, 0.5)

    def forward(self, x):
        h = self.bn(self.relu(self.fc1(x)))
        h = self.relu6(self.prelu(h))
        h = self.threshold(self.leaky(self.fc2(h)))
        return self.hardtanh(self.fc3(h))


def build():
    torch.manual_seed(12)
    model = BnActivations()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
        model.bn.weight.uniform_(-1.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
        model.prelu.weight.uniform_(-0.5, 0.5)
    x = torch.rand(1, 6) * 4 - 2
    return model.eval(), (x,)
