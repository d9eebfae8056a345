"""16-64-32-32-5 ReLU MLP with the layer sizes of the hls4ml jet-tagging model."""
import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 64)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(64, 32)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(32, 32)
        self.relu3 = nn.ReLU()
        self.fc4 = nn.Linear(32, 5)

    def forward(self, x):
        x = self.relu1(self.fc1(x))
        x = self.relu2(self.fc2(x))
        x = self.relu3(self.fc3(x))
        return self.fc4(x)


def build():
    torch.manual_seed(0)
    model = MLP().eval()
    x = torch.rand(1, 16) * 2 - 1
    return model, (x,)
