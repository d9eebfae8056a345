"""The hls4ml reference MLP: 16-64-32-32-5 with ReLU, torch.manual_seed(0) default init,
100 inputs from numpy.random.default_rng(0).uniform(-1, 1) (issue 12's numerics target)."""
import numpy as np
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 5))
    x = np.random.default_rng(0).uniform(-1, 1, (100, 16))
    return model.eval(), (torch.tensor(x, dtype=torch.float32),)
