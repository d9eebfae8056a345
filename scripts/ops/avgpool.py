"""avgpool (AvgPool1d/2d, AdaptiveAvgPool with an integer ratio, mean over spatial dims):
attrs kernel, stride, padding, divisor D.

    sum = sum over the window of x_pad (padding is 0)
    R   = (2^16 + D // 2) // D
    y   = saturate_y(round_{16+Fx-Fy}(sum * R))        (requires Fy <= Fx + 16)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from numerics import Format, NumericsError, check_range, saturate, shift_round
from ops.common import (Unsupported, arg, attr, check_window, inputs_of, pad_spatial,
                        rank_split, spatial_attr, spatial_rank, windows)
from ops.flatten import reshape
from ops.maxpool import window_attrs

#: fractional bits of the divisor's reciprocal
RECIP_BITS = 16


def reciprocal(divisor: int) -> int:
    return ((1 << RECIP_BITS) + divisor // 2) // divisor


def avgpool(x, fx: Format, fy: Format, kernel: Sequence[int], stride: Sequence[int],
            padding: Sequence[int], divisor: int) -> np.ndarray:
    x = check_range(x, fx, "avgpool input")
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < 1:
        raise NumericsError(f"avgpool divisor must be a positive integer, got {divisor!r}")
    if fy.frac > fx.frac + RECIP_BITS:
        raise NumericsError(f"avgpool output frac {fy.frac} exceeds input frac + "
                            f"{RECIP_BITS} ({fx.frac} + {RECIP_BITS})")
    r = len(kernel)
    cax = rank_split(x, r, "avgpool")
    dil = [1] * r
    outs = check_window("avgpool", x.shape[cax + 1:], kernel, stride, padding, dil)
    total = np.zeros((*x.shape[:cax + 1], *outs), dtype=np.int64)
    for _k, xs in windows(pad_spatial(x, padding, 0), kernel, stride, dil, outs):
        total += xs
    r_q = reciprocal(divisor)
    return saturate(shift_round(total * np.int64(r_q), RECIP_BITS + fx.frac - fy.frac), fy)


def evaluate(node, values, formats):
    (x,) = inputs_of(node, (1,))
    r = spatial_rank(node)
    return avgpool(values[x], formats[x], formats[node["outputs"][0]],
                   spatial_attr(node, "kernel", r), spatial_attr(node, "stride", r),
                   spatial_attr(node, "padding", r), attr(node, "divisor"))


def _rank(node) -> int:
    return 1 if "1d" in node.target._schema.name else 2


def convert_avg_pool(cv, node):
    """aten.avg_pool1d(x, kernel, stride=[], padding=0, ceil_mode=False,
    count_include_pad=True), avg_pool2d(..., divisor_override=None)."""
    r = _rank(node)
    x = cv.tensor_arg(node.args[0], "input")
    attrs = window_attrs(cv, node, r, node.args[1], arg(node, 2, "stride"),
                         arg(node, 3, "padding", 0), 1, arg(node, 4, "ceil_mode", False))
    del attrs["dilation"]
    include_pad = arg(node, 5, "count_include_pad", True)
    override = arg(node, 6, "divisor_override")
    if not include_pad and any(attrs["padding"]) and override is None:
        raise Unsupported("count_include_pad=False with padding "
                          f"{attrs['padding']} (only count_include_pad=True is supported)")
    attrs["divisor"] = int(override) if override is not None else int(np.prod(attrs["kernel"]))
    cv.emit(node, "avgpool", [x], attrs)


def _emit_global(cv, node, x: str, r: int, ratio: Sequence[int]) -> None:
    """avgpool over the last r dims with kernel = stride = ratio."""
    shape = cv.shape[x]
    out = [*shape[:-r], *[s // k for s, k in zip(shape[-r:], ratio)]]
    if out == cv.node_shape(node):
        cv.emit(node, "avgpool", [x], {"kernel": list(ratio), "stride": list(ratio),
                                       "padding": [0] * r, "divisor": int(np.prod(ratio))})
        return
    # mean without keepdim drops the pooled dims: pool into a tensor of its own, then reshape
    pooled = cv.emit(node, "avgpool", [x], {"kernel": list(ratio), "stride": list(ratio),
                                             "padding": [0] * r, "divisor": int(np.prod(ratio))},
                     name=f"{node.name}_pool", shape=out)
    reshape(cv, pooled["outputs"][0], node)


def convert_adaptive(cv, node):
    """aten.adaptive_avg_pool{1,2}d(x, output_size) whose input size is a multiple of the
    output size: a plain avgpool with kernel = stride = input/output."""
    r = _rank(node)
    x = cv.tensor_arg(node.args[0], "input")
    if len(cv.shape[x]) < r + 1:
        raise Unsupported(f"input of shape {cv.shape[x]}")
    spatial = cv.shape[x][-r:]
    size = node.args[1]
    size = [size] * r if isinstance(size, int) else list(size) * (r if len(size) == 1 else 1)
    size = [s if o is None else int(o) for s, o in zip(spatial, size)]
    if any(o < 1 or s % o for s, o in zip(spatial, size)):
        raise Unsupported(f"output_size {size} does not divide the input size {spatial} "
                          f"(only whole-number pooling ratios are supported)")
    _emit_global(cv, node, x, r, [s // o for s, o in zip(spatial, size)])


def convert_mean(cv, node):
    """aten.mean.dim(x, dims, keepdim=False) over the last one or two dims (the spatial dims
    of a [N, C, *S] or [C, *S] tensor): a global avgpool."""
    x = cv.tensor_arg(node.args[0], "input")
    shape = cv.shape[x]
    dims = arg(node, 1, "dim")
    if dims is None:
        raise Unsupported("mean over all dims (only the spatial dims are supported)")
    dims = sorted({int(d) % len(shape) for d in ([dims] if isinstance(dims, int) else dims)})
    r = len(dims)
    if arg(node, 3, "dtype") is not None:
        raise Unsupported("mean with a dtype")
    if r not in (1, 2) or dims != list(range(len(shape) - r, len(shape))) or len(shape) < r + 1:
        raise Unsupported(f"mean over dims {dims} of a rank-{len(shape)} tensor (only the last "
                          f"one or two dims of a [N, C, *S] or [C, *S] tensor are supported)")
    _emit_global(cv, node, x, r, shape[-r:])


REFERENCES = {"avgpool": evaluate}
LIMITS = {"avgpool": lambda node, formats: [
    (node["outputs"][0], formats[node["inputs"][0]].frac + RECIP_BITS)]}
MATCHERS = {
    "aten::avg_pool1d": convert_avg_pool,
    "aten::avg_pool2d": convert_avg_pool,
    "aten::adaptive_avg_pool1d": convert_adaptive,
    "aten::adaptive_avg_pool2d": convert_adaptive,
    "aten::_adaptive_avg_pool2d": convert_adaptive,
    "aten::mean": convert_mean,
}
