"""Tests for the op references in scripts/ops/: each against a straightforward loop
implementation of cnn-spec's formula on edge shapes, and each exported op against float
PyTorch (stdlib unittest; run like test_export.py)."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import shutil
import sys
import tempfile
import textwrap
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numerics  # noqa: E402
from numerics import Format, NumericsError  # noqa: E402
from ops import (avgpool, batchnorm, clamp, conv, lut, maxpool, prelu, softmax,  # noqa: E402
                 threshold)

Q88 = Format(True, 16, 8)
RNG = np.random.default_rng(12)


def rand_q(shape, fmt=Q88, spread=None):
    hi = fmt.max_int if spread is None else spread
    return RNG.integers(max(fmt.min_int, -hi), hi + 1, size=shape, dtype=np.int64)


def rq(v: int, s: int) -> int:
    """round_s of one Python integer (half toward +inf)."""
    return v if s == 0 else (v + (1 << (s - 1))) >> s


def sat(v: int, f: Format) -> int:
    return max(f.min_int, min(f.max_int, v))


# --------------------------------------------------------------------------
# Loop implementations, written from cnn-spec one output element at a time
# --------------------------------------------------------------------------

def loop_conv(x, w, b, fx, fw, fb, fy, stride, pad, dil, groups):
    r = w.ndim - 2
    lead = x.shape[:x.ndim - r - 1]
    c, o = x.shape[x.ndim - r - 1], w.shape[0]
    cg, og = c // groups, o // groups
    spatial = x.shape[x.ndim - r:]
    outs = [(s + 2 * p - d * (k - 1) - 1) // st + 1
            for s, k, st, p, d in zip(spatial, w.shape[2:], stride, pad, dil)]
    y = np.zeros((*lead, o, *outs), dtype=np.int64)
    for n in itertools.product(*(range(d) for d in lead)):
        for oc in range(o):
            grp = oc // og
            for os_ in itertools.product(*(range(v) for v in outs)):
                acc = 0 if b is None else int(b[oc]) << (fx.frac + fw.frac - fb.frac)
                for ci in range(cg):
                    for k in itertools.product(*(range(v) for v in w.shape[2:])):
                        pos = [os_[i] * stride[i] + k[i] * dil[i] - pad[i] for i in range(r)]
                        if all(0 <= pos[i] < spatial[i] for i in range(r)):
                            acc += int(x[(*n, grp * cg + ci, *pos)]) * int(w[(oc, ci, *k)])
                y[(*n, oc, *os_)] = sat(rq(acc, fx.frac + fw.frac - fy.frac), fy)
    return y


def loop_pool(x, r, kernel, stride, pad, dil, reduce):
    spatial = x.shape[x.ndim - r:]
    outs = [(s + 2 * p - d * (k - 1) - 1) // st + 1
            for s, k, st, p, d in zip(spatial, kernel, stride, pad, dil)]
    y = np.zeros((*x.shape[:x.ndim - r], *outs), dtype=np.int64)
    for lead in itertools.product(*(range(d) for d in x.shape[:x.ndim - r])):
        for os_ in itertools.product(*(range(v) for v in outs)):
            vals = []
            for k in itertools.product(*(range(v) for v in kernel)):
                pos = [os_[i] * stride[i] + k[i] * dil[i] - pad[i] for i in range(r)]
                inside = all(0 <= pos[i] < spatial[i] for i in range(r))
                vals.append(int(x[(*lead, *pos)]) if inside else None)
            y[(*lead, *os_)] = reduce(vals)
    return y


class ConvTests(unittest.TestCase):
    CASES = [  # x shape, w shape, stride, pad, dil, groups
        ((1, 3, 6, 6), (4, 3, 1, 1), (1, 1), (0, 0), (1, 1), 1),     # 1x1 kernel
        ((2, 2, 5, 5), (3, 2, 5, 5), (1, 1), (0, 0), (1, 1), 1),     # kernel = input size
        ((1, 2, 7, 5), (3, 2, 3, 3), (2, 2), (1, 1), (1, 1), 1),     # odd sizes, stride 2, pad 1
        ((1, 4, 6, 6), (4, 1, 3, 3), (1, 1), (1, 1), (1, 1), 4),     # depthwise
        ((1, 4, 6, 6), (8, 1, 3, 3), (2, 1), (1, 0), (1, 1), 4),     # depthwise, multiplier 2
        ((1, 4, 7, 7), (6, 2, 3, 3), (1, 1), (2, 2), (2, 2), 2),     # groups 2, dilation 2
        ((3, 5, 9), (2, 5, 3), (2,), (1,), (1,), 1),                  # conv1d
        ((2, 6), (3, 2, 6), (1,), (0,), (1,), 1),                     # unbatched conv1d
        ((3, 5, 4), (2, 3, 2, 3), (1, 2), (1, 1), (1, 1), 1),        # unbatched conv2d
    ]

    def test_matches_loops(self):
        fx, fw, fb, fy = Format(True, 16, 8), Format(True, 12, 10), Format(True, 16, 12), Q88
        for xs, ws, st, p, d, g in self.CASES:
            with self.subTest(x=xs, w=ws, stride=st, pad=p, dil=d, groups=g):
                x, w = rand_q(xs, fx, 3000), rand_q(ws, fw)
                for b in (None, rand_q((ws[0],), fb)):
                    got = conv.conv(x, w, b, fx, fw, None if b is None else fb, fy, st, p, d, g)
                    want = loop_conv(x, w, b, fx, fw, fb, fy, st, p, d, g)
                    np.testing.assert_array_equal(got, want)

    def test_saturates_and_checks_formats(self):
        x = np.full((1, 1, 3, 3), Q88.max_int)
        w = np.full((1, 1, 3, 3), Q88.max_int)
        got = conv.conv(x, w, None, Q88, Q88, None, Q88, [1, 1], [0, 0], [1, 1], 1)
        self.assertEqual(got.tolist(), [[[[Q88.max_int]]]])
        with self.assertRaisesRegex(NumericsError, "conv output frac 17 exceeds"):
            conv.conv(x, w, None, Q88, Q88, None, Format(True, 32, 17), [1, 1], [0, 0], [1, 1], 1)
        with self.assertRaisesRegex(NumericsError, "does not fit the input size"):
            conv.conv(x, np.zeros((1, 1, 4, 4), np.int64), None, Q88, Q88, None, Q88,
                      [1, 1], [0, 0], [1, 1], 1)
        with self.assertRaisesRegex(NumericsError, "conv accumulator overflow risk"):
            big = Format(True, 24, 8)
            conv.conv(np.zeros((1, 4, 3, 3), np.int64), np.zeros((1, 4, 3, 3), np.int64), None,
                      big, big, None, big, [1, 1], [0, 0], [1, 1], 1)


class PoolTests(unittest.TestCase):
    CASES = [  # x shape, kernel, stride, pad, dil
        ((1, 2, 7, 7), (2, 2), (2, 2), (0, 0), (1, 1)),   # odd size, floor
        ((1, 2, 7, 7), (3, 3), (2, 2), (1, 1), (1, 1)),   # odd size, pad 1
        ((2, 3, 5, 5), (5, 5), (1, 1), (0, 0), (1, 1)),   # kernel = input size
        ((1, 1, 6, 5), (2, 3), (1, 2), (1, 1), (1, 1)),   # uneven kernel
        ((1, 2, 9), (3,), (2,), (1,), (1,)),              # 1d
        ((3, 8), (2,), (2,), (0,), (1,)),                 # 1d unbatched
        ((1, 1, 7, 7), (3, 3), (1, 1), (1, 1), (2, 2)),   # dilation (maxpool only)
    ]

    def test_maxpool_matches_loops(self):
        for xs, k, st, p, d in self.CASES:
            with self.subTest(x=xs, kernel=k, stride=st, pad=p, dil=d):
                x = rand_q(xs)
                want = loop_pool(x, len(k), k, st, p, d,
                                 lambda vs: max(v for v in vs if v is not None))
                np.testing.assert_array_equal(maxpool.maxpool(x, Q88, k, st, p, d), want)

    def test_maxpool_padding_never_wins(self):
        x = np.full((1, 1, 3, 3), Q88.min_int)
        y = maxpool.maxpool(x, Q88, [2, 2], [2, 2], [1, 1], [1, 1])
        self.assertTrue((y == Q88.min_int).all())

    def test_avgpool_matches_loops(self):
        fy = Format(True, 16, 10)
        for xs, k, st, p, d in self.CASES:
            if d != (1,) * len(k):
                continue
            divisor = int(np.prod(k))
            recip = ((1 << 16) + divisor // 2) // divisor
            for fx in (Q88, Format(True, 12, 4)):
                with self.subTest(x=xs, kernel=k, stride=st, pad=p, fx=fx):
                    x = rand_q(xs, fx)
                    shift = 16 + fx.frac - fy.frac
                    want = loop_pool(x, len(k), k, st, p, d, lambda vs: sat(
                        rq(sum(v for v in vs if v is not None) * recip, shift), fy))
                    np.testing.assert_array_equal(
                        avgpool.avgpool(x, fx, fy, k, st, p, divisor), want)

    def test_avgpool_power_of_two_is_exact_division(self):
        x = np.array([[[1, 2], [3, 5]]])  # sum 11, /4 = 2.75 -> 3 (half up), frac unchanged
        self.assertEqual(avgpool.avgpool(x, Q88, Q88, [2, 2], [2, 2], [0, 0], 4).tolist(), [[[3]]])
        x = np.array([[[1, 0], [0, 1]]])  # 0.5 -> 1 (half toward +inf)
        self.assertEqual(avgpool.avgpool(x, Q88, Q88, [2, 2], [2, 2], [0, 0], 4).tolist(), [[[1]]])
        x = np.array([[[-1, 0], [0, -1]]])  # -0.5 -> 0
        self.assertEqual(avgpool.avgpool(x, Q88, Q88, [2, 2], [2, 2], [0, 0], 4).tolist(), [[[0]]])
        with self.assertRaisesRegex(NumericsError, "avgpool output frac 25 exceeds"):
            avgpool.avgpool(x, Q88, Format(True, 32, 25), [2, 2], [2, 2], [0, 0], 4)


class ElementwiseTests(unittest.TestCase):
    def test_scale_shift(self):
        fx, fs, fb, fy = Q88, Format(True, 16, 14), Format(True, 16, 12), Format(True, 16, 9)
        x, s, b = rand_q((2, 3, 4)), rand_q((3,), fs), rand_q((3,), fb)
        got = batchnorm.scale_shift(x, s, b, fx, fs, fb, fy, 1)
        for idx in itertools.product(range(2), range(3), range(4)):
            c = idx[1]
            acc = int(x[idx]) * int(s[c]) + (int(b[c]) << (fx.frac + fs.frac - fb.frac))
            self.assertEqual(got[idx], sat(rq(acc, fx.frac + fs.frac - fy.frac), fy))

    def test_clamp_and_threshold(self):
        x = np.arange(-5, 6)
        np.testing.assert_array_equal(clamp.clamp(x, Q88, -2, 3), np.clip(x, -2, 3))
        np.testing.assert_array_equal(clamp.clamp(x, Q88, None, 3), np.minimum(x, 3))
        np.testing.assert_array_equal(threshold.threshold(x, Q88, 1, -7),
                                      [-7] * 7 + [2, 3, 4, 5])  # x == threshold -> value
        self.assertEqual(threshold.raw_threshold(0.1, Q88), 25)  # 25.6: x > 0.1 <=> q >= 26
        self.assertEqual(threshold.raw_threshold(-1e9, Q88), Q88.min_int)
        self.assertEqual(clamp.raw(6.0, Q88), 1536)
        self.assertIsNone(clamp.raw(float("inf"), Q88))

    def test_prelu(self):
        fa = Format(True, 16, 15)
        x = np.array([[-300, -1, 0, 1, 300], [-32768, -2, 0, 2, 7]])
        slope = np.array([3277, -16384])  # 0.1, -0.5 per channel (axis 0)
        got = prelu.prelu(x, slope, Q88, fa, 0)
        want = [[rq(-300 * 3277, 15), rq(-3277, 15), 0, 1, 300], [16384, 1, 0, 2, 7]]
        np.testing.assert_array_equal(got, want)
        got = prelu.prelu(np.array([-32768]), np.array([-32768]), Q88, fa, None)
        self.assertEqual(got.tolist(), [32767])  # saturates

    def test_lut_edges(self):
        fx, fy = Q88, Format(True, 16, 12)
        table = np.arange(10) * 100
        x = np.array([-1000, -21, -20, -19, -18, -16, -1, 0, 19, 20, 1000])  # lo -20, s 2, hi 20
        got = lut.lut(x, table, fx, fy, -20, 2, "clamp")
        np.testing.assert_array_equal(got, [0, 0, 0, 0, 0, 100, 400, 500, 900, 900, 900])
        got = lut.lut(x, table, fx, fx, -20, 2, "identity")
        np.testing.assert_array_equal(got, [0, 0, 0, 0, 0, 100, 400, 500, 900, 20, 1000])
        with self.assertRaisesRegex(NumericsError, "identical formats"):
            lut.lut(x, table, fx, fy, -20, 2, "identity")

    def test_lut_bins(self):
        self.assertEqual(lut.table_bins(-4096, 8192), (1, 4096))
        self.assertEqual(lut.table_bins(0, 4096), (0, 4096))
        self.assertEqual(lut.table_bins(0, 4097), (1, 2049))
        np.testing.assert_array_equal(lut.bin_centres(-4, 1, 4, Format(True, 16, 1)),
                                      [-1.75, -0.75, 0.25, 1.25])

    def test_softmax(self):
        fx, fy, fe = Q88, Format(True, 16, 15), softmax.EXP_FORMAT
        lo, s, t = softmax.exp_bins(fx)
        self.assertEqual((lo, s, t), (-4096, 1, 2049))
        c = np.minimum(lut.bin_centres(lo, s, t, fx), 0.0)
        table = numerics.quantize(np.exp(c), fe)
        self.assertEqual(int(table[-1]), 1 << 14)  # d = 0 gives exactly 1
        x = np.array([[0, 256, -256, 512], [-32768, 32767, 0, 0]])
        got = softmax.softmax(x, table, fx, fe, fy, 1, lo, s)
        for row in range(2):
            d = x[row] - x[row].max()
            e = [int(table[(v - lo) >> s]) if v >= lo else 0 for v in d]
            want = [sat((v * (1 << fy.frac) + sum(e) // 2) // sum(e), fy) for v in e]
            self.assertEqual(got[row].tolist(), want)
        ref = np.exp(x[0] / 256) / np.exp(x[0] / 256).sum()
        self.assertLess(np.abs(got[0] / 2 ** 15 - ref).max(), 2e-3)


# --------------------------------------------------------------------------
# Exported models against float PyTorch
# --------------------------------------------------------------------------

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


def export_source(tmp: str, name: str, source: str, args=()):
    """Write a model file, export it with export.main; returns (rc, stderr, bundle dir)."""
    import export
    path = os.path.join(tmp, f"{name}.py")
    with open(path, "w") as f:
        f.write(HEADER + textwrap.dedent(source))
    out = os.path.join(tmp, f"{name}.bundle")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = export.main([path, out, *args])
    return rc, err.getvalue(), out


def seq_model(layers: str, shape, prep: str = "") -> str:
    return f"""
    def build():
        model = nn.Sequential({layers})
        {prep}
        return model.eval(), (torch.rand({", ".join(map(str, shape))}) * 4 - 2,)
    """


BN_PREP = ("[(m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.3, 3), "
           "m.weight.data.uniform_(0.5, 2), m.bias.data.uniform_(-1, 1)) "
           "for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]")

#: name -> (layers, input shape, ops expected in the bundle, max |fixed - float| in LSB: the
#: input's rounding times the slope plus the op's own bound, e.g. for a lut with shift s
#: max|f'| * (2^s - 1) / 2 + 1/2)
FLOAT_CASES = {
    "conv2d_pad1": ("nn.Conv2d(2, 3, 3, padding=1)", (1, 2, 6, 6), ["conv"], 6),
    "conv2d_stride2": ("nn.Conv2d(2, 3, 3, stride=2)", (2, 2, 7, 7), ["conv"], 6),
    "conv2d_same": ("nn.Conv2d(2, 3, 5, padding='same')", (1, 2, 5, 5), ["conv"], 6),
    "conv2d_1x1": ("nn.Conv2d(3, 4, 1)", (1, 3, 4, 4), ["conv"], 6),
    "depthwise": ("nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)", (1, 4, 5, 5),
                  ["conv"], 6),
    "conv1d": ("nn.Conv1d(2, 3, 3, padding=1), nn.ReLU()", (1, 2, 9), ["conv", "relu"], 6),
    "conv_bn_folded": ("nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)", (1, 2, 6, 6), ["conv"], 12),
    "bn_after_relu": ("nn.Conv2d(2, 3, 3), nn.ReLU(), nn.BatchNorm2d(3)", (1, 2, 6, 6),
                      ["conv", "relu", "scale_shift"], 12),
    "linear_bn1d": ("nn.Linear(6, 5), nn.BatchNorm1d(5)", (3, 6), ["linear"], 12),
    "maxpool2d_odd": ("nn.MaxPool2d(2)", (1, 2, 7, 7), ["maxpool"], 0.5),
    "maxpool2d_pad": ("nn.MaxPool2d(3, stride=2, padding=1)", (1, 2, 7, 7), ["maxpool"], 0.5),
    "maxpool_indices": ("nn.MaxPool2d(2, return_indices=True)", (1, 2, 4, 4), None, 0.5),
    "maxpool1d": ("nn.MaxPool1d(3, padding=1)", (1, 2, 7), ["maxpool"], 0.5),
    "avgpool2d_pad": ("nn.AvgPool2d(3, stride=2, padding=1)", (1, 2, 7, 7), ["avgpool"], 1),
    "avgpool1d": ("nn.AvgPool1d(2)", (1, 3, 7), ["avgpool"], 1),
    "adaptive": ("nn.AdaptiveAvgPool2d(1), nn.Flatten()", (2, 3, 4, 4), ["avgpool", "flatten"], 1),
    "relu6": ("nn.ReLU6()", (1, 10), ["clamp"], 0.5),
    "hardtanh": ("nn.Hardtanh(-0.5, 1.25)", (1, 10), ["clamp"], 0.5),
    "threshold": ("nn.Threshold(0.1, -1.5)", (1, 40), ["threshold"], 0.5),
    "leaky_relu": ("nn.LeakyReLU(0.1)", (1, 40), ["prelu"], 1),
    "prelu": ("nn.Conv2d(2, 3, 1), nn.PReLU(3)", (1, 2, 3, 3), ["conv", "prelu"], 8),
    "sigmoid": ("nn.Sigmoid()", (1, 64), ["lut"], 1),
    "tanh": ("nn.Tanh()", (1, 64), ["lut"], 1),
    "elu": ("nn.ELU()", (1, 64), ["lut"], 1),
    "selu": ("nn.SELU()", (1, 64), ["lut"], 10),
    "gelu": ("nn.GELU()", (1, 64), ["lut"], 2),
    "silu": ("nn.SiLU()", (1, 64), ["lut"], 2),
    "softplus": ("nn.Softplus()", (1, 64), ["lut"], 2.5),
    "hardsigmoid": ("nn.Hardsigmoid()", (1, 64), ["lut"], 1),
    "hardswish": ("nn.Hardswish()", (1, 64), ["lut"], 1),
    "mish": ("nn.Mish()", (1, 64), ["lut"], 2),
    "dropout": ("nn.Linear(4, 3), nn.Dropout(0.5)", (1, 4), ["linear"], 2),
    "softmax": ("nn.Linear(4, 6), nn.Softmax(dim=-1)", (2, 4), ["linear", "softmax"], 2),
}


class TempDirTests(unittest.TestCase):
    """Tests that export into one temporary folder (cls.tmp)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mlcalyx-ops-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class FloatTests(TempDirTests):
    def test_each_op_tracks_float(self):
        for name, (layers, shape, want_ops, max_lsb) in FLOAT_CASES.items():
            with self.subTest(case=name):
                src = seq_model(layers, shape, BN_PREP)
                if name == "maxpool_indices":
                    src = """
                    class M(nn.Module):
                        def __init__(self):
                            super().__init__()
                            self.pool = nn.MaxPool2d(2, return_indices=True)
                        def forward(self, x):
                            return self.pool(x)[0]
                    def build():
                        return M().eval(), (torch.rand(1, 2, 4, 4) * 4 - 2,)
                    """
                rc, err, out = export_source(self.tmp, name, src)
                self.assertEqual(rc, 0, err)
                doc = numerics.load_model_json(out)
                if want_ops is not None:
                    self.assertEqual([n["op"] for n in doc["nodes"]], want_ops)
                for r in numerics.check_bundle(out).values():
                    self.assertTrue(r["match"])
                    self.assertLessEqual(r["max_err_lsb"], max_lsb)

    def test_mean_over_spatial_dims(self):
        rc, err, out = export_source(self.tmp, "mean", """
        class M(nn.Module):
            def forward(self, x):
                return x.mean(dim=(2, 3)), x.mean(dim=-1, keepdim=True)
        def build():
            return M().eval(), (torch.rand(2, 3, 4, 4) * 4 - 2,)
        """)
        self.assertEqual(rc, 0, err)
        doc = numerics.load_model_json(out)
        self.assertEqual([(n["op"], n["attrs"]) for n in doc["nodes"]], [
            ("avgpool", {"kernel": [4, 4], "stride": [4, 4], "padding": [0, 0], "divisor": 16}),
            ("flatten", {"shape": [2, 3]}),
            ("avgpool", {"kernel": [4], "stride": [4], "padding": [0], "divisor": 4})])
        for r in numerics.check_bundle(out).values():
            self.assertTrue(r["match"])
            self.assertLessEqual(r["max_err_lsb"], 1)

    def test_batch_norm_fold_only_without_other_users(self):
        rc, err, out = export_source(self.tmp, "bn_shared", f"""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(2, 3, 3)
                self.bn = nn.BatchNorm2d(3)
            def forward(self, x):
                h = self.conv(x)
                return self.bn(h) + h
        def build():
            model = M()
            {BN_PREP}
            return model.eval(), (torch.rand(1, 2, 5, 5),)
        """)
        self.assertEqual(rc, 0, err)
        doc = numerics.load_model_json(out)
        self.assertEqual([n["op"] for n in doc["nodes"]], ["conv", "scale_shift", "add"])
        bn = doc["nodes"][1]
        self.assertEqual(bn["inputs"], ["conv2d", "batch_norm.scale", "batch_norm.shift"])
        self.assertEqual(bn["source"]["module"], "bn")
        self.assertTrue(all(r["match"] for r in numerics.check_bundle(out).values()))

    def test_unsupported_attributes_name_op_attribute_and_module(self):
        cases = {
            "ceil": ("nn.MaxPool2d(2, ceil_mode=True)", (1, 1, 5, 5),
                     ["aten.max_pool2d", "module '0', MaxPool2d", "ceil_mode=True"]),
            "exclude_pad": ("nn.AvgPool2d(3, padding=1, count_include_pad=False)", (1, 1, 5, 5),
                            ["aten.avg_pool2d", "module '0', AvgPool2d",
                             "count_include_pad=False"]),
            "reflect": ("nn.Conv2d(1, 2, 3, padding=1, padding_mode='reflect')", (1, 1, 5, 5),
                        ["aten.pad", "module '0', Conv2d", "padding_mode"]),
            "same_even": ("nn.Conv1d(1, 2, 4, padding='same')", (1, 1, 8),
                          ["aten.conv1d.padding", "module '0', Conv1d", "padding='same'"]),
            "transposed": ("nn.ConvTranspose2d(1, 2, 3)", (1, 1, 5, 5),
                           ["aten.conv_transpose2d", "module '0', ConvTranspose2d"]),
            "softmax_inside": ("nn.Softmax(dim=1), nn.Linear(3, 2)", (1, 3),
                               ["aten.softmax", "module '0', Softmax", "only as a model output"]),
            "adaptive_ratio": ("nn.AdaptiveAvgPool2d(3)", (1, 1, 5, 5),
                               ["aten.adaptive_avg_pool2d", "module '0'", "output_size [3, 3]"]),
        }
        for name, (layers, shape, needles) in cases.items():
            with self.subTest(case=name):
                rc, err, out = export_source(self.tmp, name, seq_model(layers, shape))
                self.assertEqual(rc, 1, err)
                for needle in needles:
                    self.assertIn(needle, err)
                self.assertFalse(os.path.exists(out))

    def test_reference_rejects_bad_attrs(self):
        node = {"name": "p", "op": "maxpool", "inputs": ["x"], "outputs": ["y"],
                "attrs": {"kernel": [2, 2], "stride": [2], "padding": [0, 0], "dilation": [1, 1]}}
        with self.assertRaisesRegex(numerics.BundleError, "attrs.stride must be a list of 2"):
            maxpool.evaluate(node, {"x": np.zeros((1, 1, 4, 4), np.int64)}, {"x": Q88, "y": Q88})


if __name__ == "__main__":
    unittest.main()
