"""MLP trained on scikit-learn's 8x8 digits (weights in examples/digits/mlp.npz, from
scripts/train_digits.py). The example input is the first held-out image."""
from digits.models import heldout, load_model


def build():
    x, _ = heldout()
    return load_model("mlp"), (x[:1],)
