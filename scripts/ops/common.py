"""What the op modules share: the unsupported-case exception, ATen argument access, format
checks and the sliding-window helper of conv and the pools (NumPy only, no torch)."""

from __future__ import annotations

import itertools
from typing import Iterator, List, Sequence, Tuple

import numpy as np

from numerics import BundleError, Format, NumericsError


class Unsupported(Exception):
    """The matched ATen node (or one of its attributes) cannot be exported; ``reason`` says why.
    The exporter adds the op name, the node and the PyTorch module path."""

    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


def arg(node, i: int, name: str, default=None):
    """ATen argument ``i`` (positional) or ``name`` (keyword) of an fx node, else ``default``."""
    if len(node.args) > i:
        return node.args[i]
    return node.kwargs.get(name, default)


def ints(value, r: int, what: str) -> List[int]:
    """An ATen int-or-list attribute as a list of ``r`` ints (one per spatial dim)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value] * r
    vals = [int(v) for v in value]
    if len(vals) == 1:
        return vals * r
    if len(vals) != r:
        raise Unsupported(f"{what}={list(value)} for {r} spatial dims")
    return vals


def inputs_of(node: dict, count: Sequence[int]) -> List[str]:
    ins = node["inputs"]
    if len(ins) not in count:
        want = " or ".join(str(c) for c in count)
        raise BundleError(f"node {node['name']!r}: {node['op']} takes {want} inputs, "
                          f"got {len(ins)}")
    return ins


def attr(node: dict, key: str):
    attrs = node.get("attrs") or {}
    if key not in attrs:
        raise BundleError(f"node {node['name']!r}: {node['op']} needs attrs.{key}")
    return attrs[key]


def same_formats(op: str, *fmts: Format) -> None:
    if any(f != fmts[0] for f in fmts):
        raise NumericsError(f"{op} requires identical formats, got "
                            f"{' -> '.join(str(f) for f in fmts)}")


def spatial_attr(node: dict, key: str, r: int) -> List[int]:
    v = attr(node, key)
    if not isinstance(v, list) or len(v) != r or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in v):
        raise BundleError(f"node {node['name']!r}: attrs.{key} must be a list of {r} ints, "
                          f"got {v!r}")
    return v


def out_size(size: int, kernel: int, stride: int, pad: int, dil: int) -> int:
    """PyTorch's output size (floor mode) of a window op along one dim."""
    return (size + 2 * pad - dil * (kernel - 1) - 1) // stride + 1


def check_window(what: str, spatial: Sequence[int], kernel, stride, pad, dil) -> List[int]:
    for name, vals, lo in (("kernel", kernel, 1), ("stride", stride, 1), ("padding", pad, 0),
                           ("dilation", dil, 1)):
        if any(v < lo for v in vals):
            raise NumericsError(f"{what} {name} {list(vals)} must be >= {lo}")
    outs = [out_size(s, k, st, p, d) for s, k, st, p, d in zip(spatial, kernel, stride, pad, dil)]
    if any(o < 1 for o in outs):
        raise NumericsError(f"{what}: window {list(kernel)} (dilation {list(dil)}, padding "
                            f"{list(pad)}) does not fit the input size {list(spatial)}")
    return outs


def pad_spatial(x: np.ndarray, pad: Sequence[int], fill: int) -> np.ndarray:
    r = len(pad)
    widths = [(0, 0)] * (x.ndim - r) + [(p, p) for p in pad]
    return np.pad(x, widths, mode="constant", constant_values=fill)


def windows(xp: np.ndarray, kernel, stride, dil,
            outs) -> Iterator[Tuple[Tuple[int, ...], np.ndarray]]:
    """For each kernel offset k: (k, the padded input at ``os*stride + k*dil``), shaped
    [..., *outs] -- the strided slice every output position reads at that offset."""
    r = len(kernel)
    for k in itertools.product(*(range(kk) for kk in kernel)):
        idx = [slice(None)] * (xp.ndim - r)
        for i in range(r):
            start = k[i] * dil[i]
            idx.append(slice(start, start + stride[i] * (outs[i] - 1) + 1, stride[i]))
        yield k, xp[tuple(idx)]


def rank_split(x: np.ndarray, r: int, what: str) -> int:
    """The channel axis of an r-spatial-dim op's input (rank r+1 unbatched or more)."""
    if x.ndim < r + 1:
        raise NumericsError(f"{what} over {r} spatial dims needs rank >= {r + 1}, got shape "
                            f"{list(x.shape)}")
    return x.ndim - r - 1


def spatial_rank(node: dict) -> int:
    """r of a window op: the length of its attrs.kernel."""
    k = attr(node, "kernel")
    if not isinstance(k, list) or len(k) not in (1, 2):
        raise BundleError(f"node {node['name']!r}: attrs.kernel must be a list of 1 or 2 ints, "
                          f"got {k!r}")
    return len(k)


def mac_limits(node: dict, formats) -> list:
    """Frac limits of a multiply-accumulate node [x, w, b?] -> y: the output and the bias
    fracs may not exceed Fx + Fw (the requantization and the bias alignment shift left)."""
    ins = node["inputs"]
    top = formats[ins[0]].frac + formats[ins[1]].frac
    return [(node["outputs"][0], top)] + ([(ins[2], top)] if len(ins) > 2 else [])
