"""A residual CNN block on 8x8x8: relu(x + bn2(conv2(relu(bn1(conv1(x)))))), 3x3 convs with
padding 1 and batch norms with non-trivial running statistics (each folded into its conv)."""
import torch
import torch.nn as nn


class ResidualCNN(nn.Module):
    def __init__(self, channels: int = 8):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu2(y + x)


def randomize_batch_norms(model: nn.Module) -> None:
    """Running statistics and affine parameters away from the identity (as after training)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.7, 1.3)
                m.bias.uniform_(-0.2, 0.2)


def build():
    torch.manual_seed(0)
    model = ResidualCNN()
    randomize_batch_norms(model)
    model.eval()
    x = torch.rand(1, 8, 8, 8) * 2 - 1
    return model, (x,)
