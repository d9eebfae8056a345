"""Threshold(0.5, -2): x > 0.5 ? x : -2 (0.5 itself is on the ramp) on a ramp of 73 values over [-9, 9] (steps of 1/4)."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Threshold(0.5, -2.0),
    )
    model.eval()
    return model, (torch.linspace(-9, 9, 73).reshape(1, 73),)
