"""BatchNorm1d/2d in eval mode. Folded into the conv or linear that feeds it when that node's
output has no other user (``w' = w * g[o]``, ``b' = b * g[o] + beta - mean * g[o]``,
``g = gamma / sqrt(var + eps)``, in float64 before quantization); otherwise a ``scale_shift``
node with ``scale = g``, ``shift = beta - mean * g``:

    y = saturate_y(round_{Fx+Fs-Fy}(x * scale[c] + (shift[c] << (Fx+Fs-Fb))))

(Fs the scale's frac, Fb the shift's; the rules of linear with K = 1.)
"""

from __future__ import annotations

import numpy as np

from numerics import (Format, NumericsError, check_linear_formats, check_range, saturate,
                      shift_round)
from ops.common import Unsupported, arg, attr, inputs_of, mac_limits


def scale_shift(x, scale, shift, fx: Format, fs: Format, fb: Format, fy: Format,
                axis: int) -> np.ndarray:
    x = check_range(x, fx, "scale_shift input")
    scale = check_range(scale, fs, "scale_shift scale")
    shift = check_range(shift, fb, "scale_shift shift")
    if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < x.ndim:
        raise NumericsError(f"scale_shift axis {axis!r} is not a dim of shape {list(x.shape)}")
    c = x.shape[axis]
    if scale.shape != (c,) or shift.shape != (c,):
        raise NumericsError(f"scale_shift parameters of shapes {list(scale.shape)}, "
                            f"{list(shift.shape)} do not match {c} channels")
    check_linear_formats(1, fx, fs, fb, fy, op="scale_shift")
    bshape = [1] * x.ndim
    bshape[axis] = c
    aligned = shift << np.int64(fx.frac + fs.frac - fb.frac)
    acc = x * scale.reshape(bshape) + aligned.reshape(bshape)
    return saturate(shift_round(acc, fx.frac + fs.frac - fy.frac), fy)


def evaluate(node, values, formats):
    x, s, b = inputs_of(node, (3,))
    return scale_shift(values[x], values[s], values[b], formats[x], formats[s], formats[b],
                       formats[node["outputs"][0]], attr(node, "axis"))


def _stats(cv, node, w_arg, b_arg, mean_arg, var_arg, eps):
    """(g, shift) per channel in float64."""
    if mean_arg is None or var_arg is None:
        raise Unsupported("batch norm without running statistics (track_running_stats=False "
                          "normalizes with batch statistics even in eval mode)")
    mean = cv.weight_array(cv.weight_arg(mean_arg, "running_mean", "batch norm statistics"))
    var = cv.weight_array(cv.weight_arg(var_arg, "running_var", "batch norm statistics"))
    gamma = (np.ones_like(mean) if w_arg is None else
             cv.weight_array(cv.weight_arg(w_arg, "weight", "batch norm parameters")))
    beta = (np.zeros_like(mean) if b_arg is None else
            cv.weight_array(cv.weight_arg(b_arg, "bias", "batch norm parameters")))
    g = gamma / np.sqrt(var + float(eps))
    return g, beta - mean * g


def _try_fold(cv, node, g, shift) -> bool:
    src = node.args[0]
    producer = cv.producer(src)
    if producer is None or producer["op"] not in ("conv", "linear") or len(src.users) != 1:
        return False
    out = producer["outputs"][0]
    rank = len(cv.shape[out])
    w_name = producer["inputs"][1]
    r = len(cv.shape[w_name]) - 2 if producer["op"] == "conv" else 0
    channel_axis = rank - r - 1
    if channel_axis != 1 % rank:
        return False
    if any(cv.weight_user_count(t) != 1 for t in producer["inputs"][1:]):
        return False  # a shared weight or bias must keep its values
    w = cv.weight_array(w_name)
    cv.set_weight(w_name, w * g.reshape(-1, *([1] * (w.ndim - 1))))
    if len(producer["inputs"]) == 3:
        b_name = producer["inputs"][2]
        cv.set_weight(b_name, cv.weight_array(b_name) * g + shift)
    else:
        producer["inputs"].append(cv.new_weight(f"{producer['name']}.bias", shift))
    cv.alias_name(node, out)
    return True


def _convert(cv, node, w_arg, b_arg, mean_arg, var_arg, training, eps):
    if training:
        raise Unsupported("batch norm in training mode")
    x = cv.tensor_arg(node.args[0], "input")
    g, shift = _stats(cv, node, w_arg, b_arg, mean_arg, var_arg, eps)
    if len(cv.shape[x]) < 2 or cv.shape[x][1] != g.shape[0]:
        raise Unsupported(f"batch norm of {g.shape[0]} channels on shape {cv.shape[x]}")
    if _try_fold(cv, node, g, shift):
        return
    scale = cv.new_weight(f"{node.name}.scale", g, own_format=True)
    shift_name = cv.new_weight(f"{node.name}.shift", shift, own_format=True)
    cv.emit(node, "scale_shift", [x, scale, shift_name], {"axis": 1})


def _matcher(training_at, eps_at):
    """A matcher for a batch-norm overload: (x, w, b, mean, var, ...) with training and eps at
    these positions (training None: an eval-only overload)."""
    def convert(cv, node):
        training = False if training_at is None else arg(node, training_at, "training", False)
        _convert(cv, node, arg(node, 1, "weight"), arg(node, 2, "bias"),
                 arg(node, 3, "running_mean"), arg(node, 4, "running_var"), training,
                 arg(node, eps_at, "eps", 1e-5))
    return convert


REFERENCES = {"scale_shift": evaluate}
LIMITS = {"scale_shift": mac_limits}
MATCHERS = {
    # (x, w, b, mean, var, training, momentum, eps, cudnn_enabled)
    "aten::batch_norm": _matcher(5, 7),
    # (x, w, b, mean, var, momentum, eps) -> (y, saved stats...)
    "aten::_native_batch_norm_legit_no_training": _matcher(None, 6),
    # (x, w, b, mean, var, training, momentum, eps) -> (y, saved stats...)
    "aten::native_batch_norm": _matcher(5, 7),
}
