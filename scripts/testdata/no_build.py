"""Error case: a model file without build()."""
import torch.nn as nn

model = nn.Linear(2, 2)
