"""maxpool (MaxPool1d/2d): y = max over the window of the in-bounds elements (padding is
-infinity: it never wins); formats identical. attrs kernel, stride, padding, dilation."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from numerics import Format, NumericsError, check_range
from ops.common import (Unsupported, arg, check_window, inputs_of, ints, out_size, pad_spatial,
                        rank_split, same_formats, spatial_attr, spatial_rank, windows)

#: below every value of every format (widths <= 63), so padding never wins
_NEG = np.iinfo(np.int64).min


def maxpool(x, fmt: Format, kernel: Sequence[int], stride: Sequence[int],
            padding: Sequence[int], dilation: Sequence[int]) -> np.ndarray:
    x = check_range(x, fmt, "maxpool input")
    r = len(kernel)
    cax = rank_split(x, r, "maxpool")
    outs = check_window("maxpool", x.shape[cax + 1:], kernel, stride, padding, dilation)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise NumericsError(f"maxpool padding {list(padding)} exceeds half the kernel "
                            f"{list(kernel)}")
    y = np.full((*x.shape[:cax + 1], *outs), _NEG, dtype=np.int64)
    for _k, xs in windows(pad_spatial(x, padding, _NEG), kernel, stride, dilation, outs):
        np.maximum(y, xs, out=y)
    if (y == _NEG).any():
        raise NumericsError(f"maxpool window {list(kernel)} (dilation {list(dilation)}) reads "
                            f"only padding at some output position")
    return y


def evaluate(node, values, formats):
    (x,) = inputs_of(node, (1,))
    fy = formats[node["outputs"][0]]
    same_formats("maxpool", formats[x], fy)
    r = spatial_rank(node)
    return maxpool(values[x], fy, spatial_attr(node, "kernel", r), spatial_attr(node, "stride", r),
                   spatial_attr(node, "padding", r), spatial_attr(node, "dilation", r))


def window_attrs(cv, node, r: int, kernel, stride, padding, dilation, ceil_mode: bool) -> dict:
    """The window attributes as lists; ceil_mode is accepted only where it does not change
    the output size (the exporter's check against the traced shape)."""
    kernel = ints(kernel, r, "kernel_size")
    stride = ints(stride, r, "stride") if stride not in (None, []) else list(kernel)
    padding = ints(padding, r, "padding")
    dilation = ints(dilation, r, "dilation")
    if ceil_mode:
        x_shape = cv.node_shape(node.args[0])
        floor_sizes = [out_size(s, k, st, p, d) for s, k, st, p, d in
                       zip(x_shape[-r:], kernel, stride, padding, dilation)]
        if floor_sizes != cv.node_shape(node)[-r:]:
            raise Unsupported(f"ceil_mode=True changes the output size to "
                              f"{cv.node_shape(node)[-r:]} (only floor-mode sizes "
                              f"{floor_sizes} are supported)")
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}


def convert(cv, node):
    """aten.max_pool{1,2}d[_with_indices](x, kernel, stride=[], padding=0, dilation=1,
    ceil_mode=False)."""
    r = 1 if "1d" in node.target._schema.name else 2
    x = cv.tensor_arg(node.args[0], "input")
    attrs = window_attrs(cv, node, r, node.args[1], arg(node, 2, "stride"),
                         arg(node, 3, "padding", 0), arg(node, 4, "dilation", 1),
                         arg(node, 5, "ceil_mode", False))
    cv.emit(node, "maxpool", [x], attrs)
    cv.tie(x, node.name)


REFERENCES = {"maxpool": evaluate}
MATCHERS = {op: convert for op in ("aten::max_pool1d", "aten::max_pool2d",
                                   "aten::max_pool1d_with_indices",
                                   "aten::max_pool2d_with_indices")}
