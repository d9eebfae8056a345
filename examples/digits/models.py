"""The two models trained on scikit-learn's 8x8 digits (scripts/train_digits.py): their classes,
and loading the committed weights and held-out split from examples/digits/ (no scikit-learn
needed). Used by examples/digits_mlp.py and examples/digits_cnn.py."""
import os

import numpy as np
import torch
import torch.nn as nn

DIGITS_DIR = os.path.dirname(os.path.abspath(__file__))


class DigitsMLP(nn.Module):
    """64 pixels -> 32 -> ReLU -> 16 -> ReLU -> 10 classes."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(64, 32)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(32, 16)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.relu1(self.fc1(self.flatten(x)))
        return self.fc3(self.relu2(self.fc2(x)))


class DigitsCNN(nn.Module):
    """1x8x8 -> conv3x3(8, pad 1)-ReLU-maxpool2 -> conv3x3(16, pad 1)-ReLU-maxpool2 -> fc 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(self.flatten(x))


MODELS = {"mlp": DigitsMLP, "cnn": DigitsCNN}


def load_model(kind: str) -> nn.Module:
    """The trained model `kind` ("mlp" or "cnn") with its committed weights, in eval mode."""
    model = MODELS[kind]()
    with np.load(os.path.join(DIGITS_DIR, f"{kind}.npz")) as f:
        state = {k: torch.from_numpy(f[k]) for k in f.files}
    model.load_state_dict(state)
    return model.eval()


def heldout():
    """The held-out split: images as float32 [N, 1, 8, 8] in [0, 1] and int64 labels [N]."""
    with np.load(os.path.join(DIGITS_DIR, "heldout.npz")) as f:
        return torch.from_numpy(f["x"]), torch.from_numpy(f["y"])
