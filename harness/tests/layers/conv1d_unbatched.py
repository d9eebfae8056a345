"""Conv1d 2->3, kernel 3, padding 1, on an unbatched [C, L] input."""
import torch
import torch.nn as nn


def build():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(2, 3, 3, padding=1),
    )
    model.eval()
    return model, (torch.rand(2, 9) * 2 - 1,)
