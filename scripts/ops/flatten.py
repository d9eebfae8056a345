"""flatten: a row-major reshape (attrs.shape), formats identical. Reshapes to the same shape
are no node."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from numerics import Format, NumericsError, check_range
from ops.common import attr, inputs_of, same_formats


def flatten(x, shape: Iterable[int], fx: Format, fy: Format) -> np.ndarray:
    same_formats("flatten", fx, fy)
    x = check_range(x, fx, "flatten input")
    shape = tuple(int(d) for d in shape)
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise NumericsError(f"cannot reshape {list(x.shape)} to {list(shape)}")
    return np.ascontiguousarray(x).reshape(shape)


def evaluate(node, values, formats):
    (x,) = inputs_of(node, (1,))
    return flatten(values[x], attr(node, "shape"), formats[x], formats[node["outputs"][0]])


def reshape(cv, src: str, node) -> None:
    """Emit ``node`` as a reshape of tensor ``src`` to the node's own shape (no node when the
    shape does not change)."""
    new_shape = cv.node_shape(node)
    if new_shape == cv.shape[src]:
        cv.alias_name(node, src)
        return
    cv.emit(node, "flatten", [src], {"shape": new_shape})
    cv.tie(src, node.name)


def convert(cv, node):
    reshape(cv, cv.tensor_arg(node.args[0], "input"), node)


RESHAPE_OPS = ("aten::flatten", "aten::view", "aten::reshape", "aten::_unsafe_view",
               "aten::unflatten", "aten::squeeze", "aten::unsqueeze")

REFERENCES = {"flatten": evaluate}
MATCHERS = {op: convert for op in RESHAPE_OPS}
