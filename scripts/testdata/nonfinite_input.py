"""Error case: the example input holds a non-finite value (NaN, or inf with MLCALYX_TEST_INF=1)."""
import os

import torch
import torch.nn as nn


def build():
    x = torch.ones(1, 4)
    x[0, 2] = float("inf") if os.environ.get("MLCALYX_TEST_INF") == "1" else float("nan")
    return nn.Linear(4, 2).eval(), (x,)
