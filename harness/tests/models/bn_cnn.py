"""An unseen small CNN: conv (padding 1) + batch norm with non-trivial statistics (folded), relu,
maxpool 3 stride 2 padding 1, a depthwise conv in a residual add, a stride-2 conv, avgpool
padding 1, flatten, linear."""
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.p1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.c2 = nn.Conv2d(8, 6, 3, stride=2, dilation=1)
        self.ap = nn.AvgPool2d(2, padding=1)
        self.fc = nn.Linear(6 * 2 * 2, 5)

    def forward(self, x):
        x = self.p1(torch.relu(self.bn(self.c1(x))))
        x = torch.relu(self.dw(x)) + x
        x = self.ap(self.c2(x))
        return self.fc(torch.flatten(x, 1))


def build():
    torch.manual_seed(1)
    m = Net()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.2, 0.2)
        m.bn.running_var.uniform_(0.5, 1.5)
    return m.eval(), (torch.rand(1, 3, 9, 9) * 2 - 1,)
