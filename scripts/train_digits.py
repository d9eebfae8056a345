#!/usr/bin/env python3
"""Train the two digits examples on scikit-learn's bundled 8x8 digits (no download) and write
their weights and the held-out split into examples/digits/:

    examples/digits/mlp.npz       DigitsMLP state dict (float32)
    examples/digits/cnn.npz       DigitsCNN state dict (float32)
    examples/digits/heldout.npz   x: float32 [N, 1, 8, 8] in [0, 1], y: int64 [N]

Deterministic (fixed seeds, one thread, full-batch Adam; the .npz files carry no timestamps),
so a re-run reproduces the committed files on the same CPU and library versions. Needs
scikit-learn, for training only: `.venv/bin/pip install scikit-learn`; nothing at test time does.

Usage: .venv/bin/python scripts/train_digits.py [--out examples/digits] [--steps 400]
"""
import argparse
import io
import os
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
from digits.models import MODELS  # noqa: E402

TEST_FRACTION = 0.2
SEED = 0


def save_npz(path: str, arrays: dict) -> None:
    """np.savez without the zip entries' timestamps, so that the bytes depend on the data only."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
            z.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)),
                       buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED)


def load_split():
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        sys.exit("train_digits: scikit-learn is needed for training: .venv/bin/pip install "
                 "scikit-learn")
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)  # pixels 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=TEST_FRACTION, random_state=SEED, stratify=y)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def train(kind: str, x: torch.Tensor, y: torch.Tensor, steps: int) -> nn.Module:
    torch.manual_seed(SEED)
    model = MODELS[kind]()
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return model.eval()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "examples", "digits"))
    p.add_argument("--steps", type=int, default=400, help="full-batch Adam steps per model")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_train, x_test, y_train, y_test = load_split()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(x_test), torch.from_numpy(y_test)
    os.makedirs(args.out, exist_ok=True)
    save_npz(os.path.join(args.out, "heldout.npz"), {"x": x_test, "y": y_test})
    for kind in MODELS:
        model = train(kind, xt, yt, args.steps)
        state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
        save_npz(os.path.join(args.out, f"{kind}.npz"), state)
        print(f"{kind}: train accuracy {accuracy(model, xt, yt):.4f}, held-out accuracy "
              f"{accuracy(model, xv, yv):.4f} ({len(yv)} images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
