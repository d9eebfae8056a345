"""conv (Conv1d/Conv2d): inputs [x, w, b?], attrs stride, padding, dilation (one int per spatial
dim) and groups; zero padding.

    acc[n,o,os] = (b[o] << (Fx+Fw-Fb))
                + sum_{ci < C/g, k} x_pad[n, grp*(C/g)+ci, os*s + k*d - p] * w[o, ci, k]
    y = saturate_y(round_{Fx+Fw-Fy}(acc))

with the format rules and accumulator bound of linear for the reduction size (C/g) * prod(K).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from numerics import (Format, NumericsError, check_linear_formats, check_range, saturate,
                      shift_round)
from ops.common import (Unsupported, arg, attr, check_window, inputs_of, ints, mac_limits,
                        pad_spatial, rank_split, spatial_attr, windows)


def conv(x, w, b, fx: Format, fw: Format, fb: Optional[Format], fy: Format,
         stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
         groups: int) -> np.ndarray:
    """x [..., C, *S] (r = w.ndim - 2 spatial dims), w [O, C/g, *K], b [O] or None."""
    x = check_range(x, fx, "conv input")
    w = check_range(w, fw, "conv weight")
    r = w.ndim - 2
    if r < 1:
        raise NumericsError(f"conv weight must be [O, C/g, *K], got shape {list(w.shape)}")
    cax = rank_split(x, r, "conv")
    c, o = x.shape[cax], w.shape[0]
    if groups < 1 or c % groups or o % groups or w.shape[1] != c // groups:
        raise NumericsError(f"conv groups={groups}: input channels {c}, weight shape "
                            f"{list(w.shape)} do not agree")
    if b is not None:
        if fb is None:
            raise NumericsError("conv bias given without a format")
        b = check_range(b, fb, "conv bias")
        if b.shape != (o,):
            raise NumericsError(f"conv bias shape {list(b.shape)} does not match {o} "
                                f"output channels")
    else:
        fb = None
    kernel = list(w.shape[2:])
    outs = check_window("conv", x.shape[cax + 1:], kernel, stride, padding, dilation)
    check_linear_formats(w.shape[1] * int(np.prod(kernel)), fx, fw, fb, fy, op="conv")
    lead = x.shape[:cax]
    cg, og = c // groups, o // groups
    xp = pad_spatial(x, padding, 0).reshape(*lead, groups, cg, *[s + 2 * p for s, p in
                                                                 zip(x.shape[cax + 1:], padding)])
    wg = w.reshape(groups, og, cg, *kernel)
    acc = np.zeros((*lead, groups, og, *outs), dtype=np.int64)
    for k, xs in windows(xp, kernel, stride, dilation, outs):
        wk = wg[(slice(None), slice(None), slice(None), *k)]  # [g, og, cg]
        # sum over ci: [..., g, cg, *outs] x [g, og, cg] -> [..., g, og, *outs]; exact in int64
        flat = xs.reshape(*xs.shape[:-r], -1)
        acc += np.einsum("...gcs,goc->...gos", flat, wk).reshape(acc.shape)
    acc = acc.reshape(*lead, o, *outs)
    if b is not None:
        acc = acc + (b << np.int64(fx.frac + fw.frac - fb.frac)).reshape(o, *([1] * r))
    return saturate(shift_round(acc, fx.frac + fw.frac - fy.frac), fy)


def evaluate(node, values, formats):
    ins = inputs_of(node, (2, 3))
    r = values[ins[1]].ndim - 2
    groups = attr(node, "groups")
    b = values[ins[2]] if len(ins) == 3 else None
    fb = formats[ins[2]] if len(ins) == 3 else None
    return conv(values[ins[0]], values[ins[1]], b, formats[ins[0]], formats[ins[1]], fb,
                formats[node["outputs"][0]], spatial_attr(node, "stride", r),
                spatial_attr(node, "padding", r), spatial_attr(node, "dilation", r), groups)


def _same_padding(kernel, dilation) -> list:
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        if total % 2:
            raise Unsupported(f"padding='same' with kernel {list(kernel)} and dilation "
                              f"{list(dilation)} pads asymmetrically (only symmetric padding "
                              f"is supported)")
        pads.append(total // 2)
    return pads


def _emit_conv(cv, node, x_arg, w_arg, b_arg, stride, padding, dilation, groups):
    x = cv.tensor_arg(x_arg, "input")
    w = cv.weight_arg(w_arg, "weight", "convolution weights")
    ins = [x, w]
    if b_arg is not None:
        ins.append(cv.weight_arg(b_arg, "bias", "convolution biases"))
    kernel = cv.shape[w][2:]
    r = len(kernel)
    stride, dilation = ints(stride, r, "stride"), ints(dilation, r, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = [0] * r
        elif padding == "same":
            padding = _same_padding(kernel, dilation)
        else:
            raise Unsupported(f"padding={padding!r}")
    padding = ints(padding, r, "padding")
    cv.emit(node, "conv", ins, {"stride": stride, "padding": padding, "dilation": dilation,
                                "groups": int(groups)})


def convert_convnd(cv, node):
    """aten.conv1d/conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1)."""
    _emit_conv(cv, node, node.args[0], node.args[1], arg(node, 2, "bias"),
               arg(node, 3, "stride", 1), arg(node, 4, "padding", 0),
               arg(node, 5, "dilation", 1), arg(node, 6, "groups", 1))


def convert_convolution(cv, node):
    """aten.convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups)."""
    if arg(node, 6, "transposed", False):
        raise Unsupported("transposed=True (ConvTranspose is not supported)")
    _emit_conv(cv, node, node.args[0], node.args[1], arg(node, 2, "bias"),
               arg(node, 3, "stride", 1), arg(node, 4, "padding", 0),
               arg(node, 5, "dilation", 1), arg(node, 8, "groups", 1))


def convert_pad(cv, node):
    """Explicit padding ops: what Conv's padding_mode 'reflect'/'replicate'/'circular' and
    F.pad become. Only a conv's own zero padding is supported."""
    mode = arg(node, 2, "mode", "constant")
    raise Unsupported(f"explicit padding (mode {mode!r}; a Conv with padding_mode other than "
                      f"'zeros', or F.pad) is not supported")


REFERENCES = {"conv": evaluate}
LIMITS = {"conv": mac_limits}
MATCHERS = {
    "aten::conv1d": convert_convnd,
    "aten::conv2d": convert_convnd,
    "aten::convolution": convert_convolution,
    **{op: convert_pad for op in ("aten::pad", "aten::constant_pad_nd", "aten::reflection_pad1d",
                                  "aten::reflection_pad2d", "aten::replication_pad1d",
                                  "aten::replication_pad2d", "aten::_pad_circular")},
}
