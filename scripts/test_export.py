"""Tests for scripts/numerics.py and scripts/export.py (stdlib unittest only).

Run from the repository root:
    .venv/bin/python -m unittest discover -s scripts -p 'test_*.py'
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLES = os.path.join(REPO, "examples")
TESTDATA = os.path.join(HERE, "testdata")
EXPORT = os.path.join(HERE, "export.py")
sys.path.insert(0, HERE)

import numerics  # noqa: E402
import ops  # noqa: E402
from numerics import Format, NumericsError  # noqa: E402

Q88 = Format(True, 16, 8)

EXAMPLE_NAMES = ["mlp", "tiny_mlp", "residual_mlp", "uneven_mlp", "matmul"]
#: ops of each example's bundle graph, in node order
EXPECTED_OPS = {
    "mlp": ["linear", "relu", "linear", "relu", "linear", "relu", "linear"],
    "tiny_mlp": ["flatten", "linear", "relu", "linear"],
    "residual_mlp": ["linear", "relu", "add", "linear"],
    "uneven_mlp": ["linear", "relu", "linear"],
    "matmul": ["linear"],
}
#: how far the fixed-point golden may be from the float golden, in LSBs
MAX_ERR_LSB = 4.0


def marker_line(path: str, marker: str) -> int:
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if marker in line:
                return i
    raise AssertionError(f"marker {marker!r} not in {path}")


def bundle_files(d: str) -> dict:
    out = {}
    for root, _dirs, files in os.walk(d):
        for fn in files:
            p = os.path.join(root, fn)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d).replace(os.sep, "/")] = f.read()
    return out


def run_main(argv):
    """Run export.main in-process; returns (status, stdout, stderr)."""
    import export
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = export.main(argv)
    return rc, out.getvalue(), err.getvalue()


def run_cli(args, cwd=None):
    return subprocess.run([sys.executable, EXPORT, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


# ==========================================================================
# Numerics
# ==========================================================================


class QuantizeTests(unittest.TestCase):
    def test_round_half_up_ties(self):
        lsb = 1 / 256
        x = np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49, -0.51]) * lsb
        np.testing.assert_array_equal(numerics.quantize(x, Q88), [1, 0, 2, -1, 3, -2, 0, -1])

    def test_exact_values(self):
        x = np.array([0.0, 1.0, -1.0, 0.25, -0.75, 127.99609375, -128.0])
        np.testing.assert_array_equal(numerics.quantize(x, Q88),
                                      [0, 256, -256, 64, -192, 32767, -32768])

    def test_clipping_both_ends(self):
        x = np.array([127.998, 128.0, 1e9, np.inf, -128.001, -128.002, -1e9, -np.inf])
        np.testing.assert_array_equal(numerics.quantize(x, Q88),
                                      [32767, 32767, 32767, 32767, -32768, -32768, -32768, -32768])

    def test_other_formats(self):
        f = Format(True, 8, 4)  # range [-8, 7.9375]
        np.testing.assert_array_equal(numerics.quantize([7.97, 8.0, -8.03, -8.04, 0.03125], f),
                                      [127, 127, -128, -128, 1])
        f0 = Format(True, 4, 0)
        np.testing.assert_array_equal(numerics.quantize([-0.5, 0.5, 6.5, 7.6, -8.6], f0),
                                      [0, 1, 7, 7, -8])

    def test_result_dtype_is_int64(self):
        self.assertEqual(numerics.quantize(np.float32(0.3), Q88).dtype, np.int64)

    def test_nan_rejected(self):
        with self.assertRaises(NumericsError):
            numerics.quantize([0.0, np.nan], Q88)


class SaturateAndShiftTests(unittest.TestCase):
    def test_saturate(self):
        f = Format(True, 8, 0)
        np.testing.assert_array_equal(numerics.saturate([-1000, -129, -128, 0, 127, 128, 1000], f),
                                      [-128, -128, -128, 0, 127, 127, 127])

    def test_shift_round_ties_toward_plus_infinity(self):
        acc = np.array([128, -128, 384, -384, 127, -129, 129, 256, -256, 0])
        np.testing.assert_array_equal(numerics.shift_round(acc, 8),
                                      [1, 0, 2, -1, 0, -1, 1, 1, -1, 0])
        np.testing.assert_array_equal(numerics.shift_round(acc, 0), acc)
        np.testing.assert_array_equal(numerics.shift_round([1, -1, 3, -3], 1), [1, 0, 2, -1])

    def test_storage_dtypes(self):
        self.assertEqual(numerics.storage_dtype(8), np.dtype("<i2"))
        self.assertEqual(numerics.storage_dtype(16), np.dtype("<i2"))
        self.assertEqual(numerics.storage_dtype(17), np.dtype("<i4"))
        self.assertEqual(numerics.storage_dtype(32), np.dtype("<i4"))
        self.assertEqual(numerics.storage_dtype(33), np.dtype("<i8"))

    def test_format_validation(self):
        for bad in (dict(signed=False), dict(width=1), dict(width=64), dict(frac=-1),
                    dict(width=8, frac=9), dict(width=16.0)):
            with self.subTest(bad=bad), self.assertRaises(NumericsError):
                Format(**bad)


class LinearTests(unittest.TestCase):
    def lin(self, x, w, b=None, fx=Q88, fw=Q88, fb=Q88, fy=Q88):
        return ops.linear.linear(np.array(x), np.array(w), None if b is None else np.array(b),
                               fx, fw, fb if b is not None else None, fy)

    def test_half_lsb_ties(self):
        # x = 1 LSB, w = +-0.5: the exact product is +-0.5 LSB of the output.
        self.assertEqual(self.lin([[1]], [[128]]).tolist(), [[1]])    # +0.5 -> 1
        self.assertEqual(self.lin([[-1]], [[128]]).tolist(), [[0]])   # -0.5 -> 0
        self.assertEqual(self.lin([[3]], [[128]]).tolist(), [[2]])    # +1.5 -> 2
        self.assertEqual(self.lin([[-3]], [[128]]).tolist(), [[-1]])  # -1.5 -> -1
        self.assertEqual(self.lin([[1]], [[127]]).tolist(), [[0]])    # just below +0.5
        self.assertEqual(self.lin([[-1]], [[129]]).tolist(), [[-1]])  # just below -0.5

    def test_bias_is_aligned_before_rounding(self):
        # acc = 1*128 + (1 << 8) = 384 -> 1.5 LSB -> 2
        self.assertEqual(self.lin([[1]], [[128]], [1]).tolist(), [[2]])
        # bias with fewer fractional bits: Fb = 4, b = 1 (1/16) -> shift 12
        fb = Format(True, 16, 4)
        self.assertEqual(self.lin([[0]], [[0]], [1], fb=fb).tolist(), [[16]])

    def test_saturation_both_ends(self):
        big = [[32767, 32767]]
        self.assertEqual(self.lin(big, [[32767, 32767]]).tolist(), [[32767]])
        self.assertEqual(self.lin(big, [[-32768, -32768]]).tolist(), [[-32768]])
        self.assertEqual(self.lin([[-32768]], [[-32768]]).tolist(), [[32767]])

    def test_matches_exact_integer_reference(self):
        rng = np.random.default_rng(1)
        x = rng.integers(-32768, 32768, size=(1, 3, 37))
        w = rng.integers(-32768, 32768, size=(11, 37))
        b = rng.integers(-32768, 32768, size=(11,))
        fy = Format(True, 16, 3)
        got = ops.linear.linear(x, w, b, Q88, Q88, Q88, fy)
        self.assertEqual(got.shape, (1, 3, 11))
        s = 8 + 8 - 3
        for i in range(3):
            for n in range(11):
                acc = sum(int(x[0, i, k]) * int(w[n, k]) for k in range(37)) + (int(b[n]) << 8)
                r = (acc + (1 << (s - 1))) // (1 << s)  # floor division == arithmetic shift
                r = max(-32768, min(32767, r))
                self.assertEqual(int(got[0, i, n]), r)

    def test_zero_shift(self):
        f0 = Format(True, 16, 0)
        self.assertEqual(ops.linear.linear(np.array([[3, -2]]), np.array([[5, 7]]), None,
                                         f0, f0, None, f0).tolist(), [[1]])

    def test_accumulator_bound(self):
        k_max = (1 << 17) - 1  # K * 2**15 * 2**15 < 2**47
        numerics.check_linear_formats(k_max, Q88, Q88, None, Q88)
        with self.assertRaisesRegex(NumericsError, "accumulator"):
            numerics.check_linear_formats(k_max + 1, Q88, Q88, None, Q88)
        with self.assertRaisesRegex(NumericsError, "accumulator"):
            ops.linear.linear(np.zeros((1, k_max + 1), np.int64), np.zeros((1, k_max + 1), np.int64),
                            None, Q88, Q88, None, Q88)
        self.assertEqual(ops.linear.linear(np.zeros((1, k_max), np.int64),
                                         np.zeros((1, k_max), np.int64), None,
                                         Q88, Q88, None, Q88).tolist(), [[0]])
        # Wider operands hit the bound with a small K.
        w24 = Format(True, 24, 8)
        with self.assertRaisesRegex(NumericsError, "accumulator"):
            numerics.check_linear_formats(16, w24, w24, None, w24)
        # An aligned bias counts too: 2**47 - 2**30 + 2**31 >= 2**47.
        with self.assertRaisesRegex(NumericsError, "bias"):
            numerics.check_linear_formats(k_max, Q88, Q88, Format(True, 16, 0), Q88)

    def test_format_rules(self):
        with self.assertRaisesRegex(NumericsError, "shift"):
            numerics.check_linear_formats(4, Q88, Q88, None, Format(True, 24, 17))
        with self.assertRaisesRegex(NumericsError, "bias"):
            numerics.check_linear_formats(4, Q88, Q88, Format(True, 24, 17), Q88)
        with self.assertRaises(NumericsError):  # out-of-range input integer
            self.lin([[40000]], [[1]])
        with self.assertRaises(NumericsError):  # shape mismatch
            self.lin([[1, 2]], [[1, 2, 3]])


class ElementwiseTests(unittest.TestCase):
    def test_relu(self):
        np.testing.assert_array_equal(ops.relu.relu([[-32768, -1, 0, 1, 32767]], Q88),
                                      [[0, 0, 0, 1, 32767]])

    def test_add_saturates(self):
        a = np.array([32767, -32768, 100, 32000, -32000])
        b = np.array([1, -1, -300, 32000, -32000])
        np.testing.assert_array_equal(ops.add.add(a, b, Q88, Q88, Q88),
                                      [32767, -32768, -200, 32767, -32768])

    def test_add_requires_identical_formats(self):
        with self.assertRaisesRegex(NumericsError, "identical"):
            ops.add.add([1], [1], Q88, Format(True, 16, 7), Q88)
        with self.assertRaisesRegex(NumericsError, "identical"):
            ops.add.add([1], [1], Q88, Q88, Format(True, 12, 8))

    def test_flatten_is_row_major(self):
        x = np.arange(8).reshape(1, 2, 4)
        np.testing.assert_array_equal(ops.flatten.flatten(x, [1, 8], Q88, Q88), [list(range(8))])
        np.testing.assert_array_equal(ops.flatten.flatten(x, [4, 2], Q88, Q88),
                                      [[0, 1], [2, 3], [4, 5], [6, 7]])
        with self.assertRaises(NumericsError):
            ops.flatten.flatten(x, [3, 3], Q88, Q88)


class InterpreterTests(unittest.TestCase):
    def doc(self):
        f = Q88.to_json()
        return {
            "schema": "mlcalyx.bundle", "version": 1,
            "model": {"name": "t", "source": "t.py"},
            "tensors": [
                {"name": "x", "role": "input", "shape": [1, 2, 2], "format": f},
                {"name": "w", "role": "weight", "shape": [2, 4], "format": f, "file": "weights/w.npy"},
                {"name": "f", "role": "activation", "shape": [1, 4], "format": f},
                {"name": "l", "role": "activation", "shape": [1, 2], "format": f},
                {"name": "r", "role": "activation", "shape": [1, 2], "format": f},
                {"name": "y", "role": "output", "shape": [1, 2], "format": f},
            ],
            "nodes": [
                {"name": "f", "op": "flatten", "inputs": ["x"], "outputs": ["f"], "attrs": {"shape": [1, 4]}},
                {"name": "l", "op": "linear", "inputs": ["f", "w"], "outputs": ["l"], "attrs": {}},
                {"name": "r", "op": "relu", "inputs": ["l"], "outputs": ["r"], "attrs": {}},
                {"name": "y", "op": "add", "inputs": ["r", "l"], "outputs": ["y"], "attrs": {}},
            ],
            "inputs": ["x"], "outputs": ["y"], "golden": {},
        }

    def test_small_graph(self):
        w = np.array([[256, 0, 0, 0], [0, -256, 0, 0]])  # picks x0, -x1
        x = np.array([[[512, 300], [0, 0]]])
        got = numerics.run_graph(self.doc(), {"w": w}, {"x": x}, trace=True)
        np.testing.assert_array_equal(got["l"], [[512, -300]])
        np.testing.assert_array_equal(got["y"], [[1024, -300]])
        self.assertEqual(set(numerics.run_graph(self.doc(), {"w": w}, {"x": x})), {"y"})

    def test_rejects_bad_graphs(self):
        d = self.doc()
        d["nodes"][2]["op"] = "bogus"
        with self.assertRaises(numerics.BundleError):
            numerics.run_graph(d, {"w": np.zeros((2, 4))}, {"x": np.zeros((1, 2, 2), int)})
        d = self.doc()
        d["tensors"][4]["shape"] = [1, 3]
        with self.assertRaises(numerics.BundleError):
            numerics.run_graph(d, {"w": np.zeros((2, 4), int)}, {"x": np.zeros((1, 2, 2), int)})


# ==========================================================================
# Export
# ==========================================================================


class ExampleBundleTests(unittest.TestCase):
    """Each examples/<name>.py re-exports byte-identically to examples/<name>.bundle."""

    @classmethod
    def setUpClass(cls):
        import export
        cls.export = export
        cls.tmp = tempfile.mkdtemp(prefix="mlcalyx-test-")
        cls.fresh = {}
        cls.summaries = {}
        for name in EXAMPLE_NAMES:
            out = os.path.join(cls.tmp, f"{name}.bundle")
            cls.summaries[name] = export.export_model(os.path.join(EXAMPLES, f"{name}.py"), out)
            cls.fresh[name] = out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def committed(self, name):
        d = os.path.join(EXAMPLES, f"{name}.bundle")
        self.assertTrue(os.path.isfile(os.path.join(d, "model.json")), f"{d} is not committed")
        return d

    def test_reexport_is_byte_identical(self):
        for name in EXAMPLE_NAMES:
            with self.subTest(example=name):
                again = os.path.join(self.tmp, f"{name}.again")
                self.export.export_model(os.path.join(EXAMPLES, f"{name}.py"), again)
                self.assertEqual(bundle_files(again), bundle_files(self.fresh[name]))

    def test_matches_committed_bundle(self):
        for name in EXAMPLE_NAMES:
            with self.subTest(example=name):
                doc = numerics.load_model_json(self.fresh[name])
                float_outputs = {v["float"] for v in doc["golden"]["outputs"].values()}
                new, old = bundle_files(self.fresh[name]), bundle_files(self.committed(name))
                self.assertEqual(sorted(new), sorted(old))
                for rel in sorted(new):
                    if new[rel] == old[rel]:
                        continue
                    if rel in float_outputs:
                        # The float32 PyTorch outputs may differ in the last ulp on a CPU with
                        # other SIMD kernels; everything else must be byte-identical.
                        a = np.load(io.BytesIO(new[rel]))
                        b = np.load(io.BytesIO(old[rel]))
                        self.assertEqual((a.dtype, a.shape), (b.dtype, b.shape))
                        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=rel)
                        continue
                    self.fail(f"{name}: {rel} differs from the committed bundle "
                              f"(re-export with scripts/export.py)")

    def test_schema(self):
        for name in EXAMPLE_NAMES:
            with self.subTest(example=name):
                d = self.committed(name)
                with open(os.path.join(d, "model.json"), encoding="utf-8") as f:
                    text = f.read()
                doc = json.loads(text)
                self.assertNotIn(REPO, text)
                self.assertEqual(list(doc), ["schema", "version", "model", "tensors", "nodes",
                                             "inputs", "outputs", "golden"])
                self.assertEqual(doc["schema"], "mlcalyx.bundle")
                self.assertEqual(doc["version"], 1)
                self.assertEqual(doc["model"], {"name": name, "source": f"{name}.py"})
                roles = [t["role"] for t in doc["tensors"]]
                rank = {"input": 0, "weight": 1, "activation": 2, "output": 2}
                self.assertEqual([rank[r] for r in roles], sorted(rank[r] for r in roles))
                names = [t["name"] for t in doc["tensors"]]
                self.assertEqual(len(names), len(set(names)))
                self.assertEqual([t["name"] for t in doc["tensors"] if t["role"] == "input"],
                                 doc["inputs"])
                self.assertEqual([t["name"] for t in doc["tensors"] if t["role"] == "output"],
                                 doc["outputs"])
                self.assertEqual([n["op"] for n in doc["nodes"]], EXPECTED_OPS[name])
                self.assertEqual([t["name"] for t in doc["tensors"] if t["role"] in
                                  ("activation", "output")],
                                 [n["outputs"][0] for n in doc["nodes"]])
                for t in doc["tensors"]:
                    self.assertEqual(t["format"], {"signed": True, "width": 16, "frac": 8})
                    keys = ["name", "role", "shape", "format"] + (["file"] if t["role"] == "weight" else [])
                    self.assertEqual(list(t), keys)
                    if t["role"] == "weight":
                        self.assertEqual(t["file"], f"weights/{t['name']}.npy")
                        arr = np.load(os.path.join(d, t["file"]), allow_pickle=False)
                        self.assertEqual(arr.dtype, np.dtype("<i2"))
                        self.assertEqual(list(arr.shape), t["shape"])
                        self.assertTrue(arr.flags["C_CONTIGUOUS"])
                for n in doc["nodes"]:
                    self.assertEqual(list(n), ["name", "op", "inputs", "outputs", "attrs", "source"])
                    self.assertEqual(list(n["source"]), ["module", "type", "location"])
                    self.assertRegex(n["source"]["location"], rf"^{name}\.py:\d+$")
                for kind in ("inputs", "outputs"):
                    self.assertEqual(list(doc["golden"][kind]), doc[kind])
                    for t, files in doc["golden"][kind].items():
                        fixed = np.load(os.path.join(d, files["fixed"]), allow_pickle=False)
                        flt = np.load(os.path.join(d, files["float"]), allow_pickle=False)
                        self.assertEqual(fixed.dtype, np.dtype("<i2"))
                        self.assertEqual(flt.dtype, np.dtype("<f4"))
                        self.assertEqual(fixed.shape, flt.shape)

    def test_specific_graphs(self):
        mlp = numerics.load_model_json(self.committed("mlp"))
        self.assertEqual(mlp["inputs"], ["x"])
        self.assertEqual(mlp["outputs"], ["linear_3"])
        first = mlp["nodes"][0]
        self.assertEqual(first["inputs"], ["x", "fc1.weight", "fc1.bias"])
        self.assertEqual(first["source"]["module"], "fc1")
        self.assertEqual(first["source"]["type"], "Linear")
        tiny = numerics.load_model_json(self.committed("tiny_mlp"))
        self.assertEqual(tiny["nodes"][0]["attrs"], {"shape": [1, 8]})
        self.assertEqual(tiny["nodes"][-1]["inputs"], ["relu", "fc2.weight"])  # no bias
        res = numerics.load_model_json(self.committed("residual_mlp"))
        add = res["nodes"][2]
        self.assertEqual(add["inputs"], ["relu", "x"])
        self.assertEqual(add["source"]["type"], "ResidualMLP")
        mm = numerics.load_model_json(self.committed("matmul"))
        self.assertEqual([t["shape"] for t in mm["tensors"]], [[1, 16, 16], [16, 16], [1, 16, 16]])
        uneven = numerics.load_model_json(self.committed("uneven_mlp"))
        self.assertEqual(uneven["nodes"][0]["source"]["module"], "hidden")

    def test_interpreter_reproduces_fixed_goldens_and_tracks_float(self):
        for name in EXAMPLE_NAMES:
            with self.subTest(example=name):
                report = numerics.check_bundle(self.committed(name))
                for out, r in report.items():
                    self.assertTrue(r["match"], f"{name}/{out}: fixed golden not reproduced")
                    self.assertLessEqual(r["max_err_lsb"], MAX_ERR_LSB, f"{name}/{out}")

    def test_golden_inputs_are_quantized_float_inputs(self):
        for name in EXAMPLE_NAMES:
            with self.subTest(example=name):
                d = self.committed(name)
                fixed = numerics.load_golden(d, "inputs", "fixed")
                flt = numerics.load_golden(d, "inputs", "float")
                for k in fixed:
                    np.testing.assert_array_equal(fixed[k], numerics.quantize(flt[k], Q88))

    def test_summary(self):
        s = self.summaries["mlp"]
        self.assertEqual((s.name, s.nodes, s.tensors), ("mlp", 7, 16))
        self.assertEqual(s.aten_ops, ["aten.linear.default", "aten.relu.default"])


class ExportCliTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlcalyx-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_unsupported_op_cli(self):
        model = os.path.join(TESTDATA, "cumsum_model.py")
        out = os.path.join(self.tmp, "bundle")
        p = run_cli([model, out])
        self.assertEqual(p.returncode, 1, p.stderr)
        line = marker_line(model, "UNSUPPORTED-LINE")
        self.assertIn("unsupported operator aten.cumsum.default at node 'cumsum' "
                      f"(module '<root>', WithCumsum, at cumsum_model.py:{line})", p.stderr)
        self.assertTrue(p.stderr.startswith("export: "), p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(os.listdir(self.tmp), [])  # no bundle, no temporary leftovers

    def test_model_file_from_another_folder(self):
        other = os.path.join(self.tmp, "elsewhere")
        os.makedirs(other)
        shutil.copy(os.path.join(EXAMPLES, "tiny_mlp.py"), os.path.join(other, "my_model.py"))
        work = os.path.join(self.tmp, "cwd")
        os.makedirs(work)
        p = run_cli([os.path.join("..", "elsewhere", "my_model.py"), "out/b"], cwd=work)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "exported my_model: 4 nodes, 8 tensors -> out/b\n")
        d = os.path.join(work, "out", "b")
        doc = numerics.load_model_json(d)
        self.assertEqual(doc["model"], {"name": "my_model", "source": "my_model.py"})
        self.assertTrue(all(n["source"]["location"].startswith("my_model.py:") for n in doc["nodes"]))
        ref = os.path.join(EXAMPLES, "tiny_mlp.bundle")
        for rel in ("weights/fc1.weight.npy", "golden/x.npy", "golden/linear_1.npy"):
            with open(os.path.join(d, rel), "rb") as a, open(os.path.join(ref, rel), "rb") as b:
                self.assertEqual(a.read(), b.read(), rel)
        self.assertFalse(os.path.exists(os.path.join(other, "__pycache__")))

    def test_failure_keeps_existing_bundle(self):
        out = os.path.join(self.tmp, "b")
        rc, stdout, _ = run_main([os.path.join(EXAMPLES, "tiny_mlp.py"), out])
        self.assertEqual(rc, 0)
        self.assertIn("exported tiny_mlp: 4 nodes, 8 tensors -> ", stdout)
        before = bundle_files(out)
        rc, _, err = run_main([os.path.join(TESTDATA, "cumsum_model.py"), out])
        self.assertEqual(rc, 1)
        self.assertIn("aten.cumsum.default", err)
        self.assertEqual(bundle_files(out), before)
        self.assertEqual(os.listdir(self.tmp), ["b"])
        # A successful export replaces the old bundle completely.
        with open(os.path.join(out, "stale.txt"), "w") as f:
            f.write("x")
        rc, _, _ = run_main([os.path.join(EXAMPLES, "uneven_mlp.py"), out])
        self.assertEqual(rc, 0)
        self.assertFalse(os.path.exists(os.path.join(out, "stale.txt")))
        self.assertEqual(numerics.load_model_json(out)["model"]["name"], "uneven_mlp")
        self.assertEqual(os.listdir(self.tmp), ["b"])

    def test_refuses_to_replace_a_non_bundle_directory(self):
        out = os.path.join(self.tmp, "precious")
        os.makedirs(out)
        with open(os.path.join(out, "notes.txt"), "w") as f:
            f.write("keep me")
        rc, _, err = run_main([os.path.join(EXAMPLES, "tiny_mlp.py"), out])
        self.assertEqual(rc, 1)
        self.assertIn("not a model bundle", err)
        self.assertEqual(os.listdir(out), ["notes.txt"])

    def test_bad_model_files(self):
        cases = {
            "no_build.py": "no_build.py does not define build()",
            "build_raises.py": "build() in build_raises.py raised RuntimeError: weights file missing",
            "does_not_exist.py": "not found",
        }
        for fn, msg in cases.items():
            with self.subTest(model=fn):
                out = os.path.join(self.tmp, "b")
                rc, stdout, err = run_main([os.path.join(TESTDATA, fn), out])
                self.assertEqual(rc, 1)
                self.assertIn(msg, err)
                self.assertNotIn("Traceback", err)
                self.assertEqual(stdout, "")
                self.assertFalse(os.path.exists(out))

    def test_build_calling_sys_exit_is_reported(self):
        out = os.path.join(self.tmp, "b")
        rc, stdout, err = run_main([os.path.join(TESTDATA, "build_exits.py"), out])
        self.assertEqual(rc, 1)
        self.assertIn("build() in build_exits.py called sys.exit(0)", err)
        self.assertNotIn("Traceback", err)
        self.assertEqual(stdout, "")
        self.assertEqual(os.listdir(self.tmp), [])

    def test_non_finite_example_inputs_are_user_errors(self):
        for value, env in (("nan", "0"), ("inf", "1")):
            with self.subTest(value=value):
                out = os.path.join(self.tmp, "b")
                os.environ["MLCALYX_TEST_INF"] = env
                try:
                    rc, _, err = run_main([os.path.join(TESTDATA, "nonfinite_input.py"), out])
                finally:
                    del os.environ["MLCALYX_TEST_INF"]
                self.assertEqual(rc, 1)
                self.assertIn(f"build() in nonfinite_input.py: example input 0 ('input') holds "
                              f"{value} at flat index 2", err)
                self.assertNotIn("internal error", err)
                self.assertEqual(os.listdir(self.tmp), [])

    def test_out_dir_at_or_under_a_file_is_a_user_error(self):
        path = os.path.join(self.tmp, "a_file")
        with open(path, "w") as f:
            f.write("keep me")
        for out in (path, os.path.join(path, "below")):
            with self.subTest(out=out):
                rc, _, err = run_main([os.path.join(EXAMPLES, "tiny_mlp.py"), out])
                self.assertEqual(rc, 1)
                self.assertIn(f"{path} is a file, not a folder", err)
                self.assertNotIn("internal error", err)
                with open(path) as f:
                    self.assertEqual(f.read(), "keep me")
                self.assertEqual(os.listdir(self.tmp), ["a_file"])

    def test_long_tensor_names_get_short_file_names(self):
        out = os.path.join(self.tmp, "b")
        rc, _, err = run_main([os.path.join(TESTDATA, "long_names.py"), out])
        self.assertEqual(rc, 0, err)
        doc = numerics.load_model_json(out)
        long = "layer_" + "x" * 294
        weight = next(t for t in doc["tensors"] if t["role"] == "weight"
                      and t["name"] == f"{long}.weight")
        self.assertLessEqual(len(os.path.basename(weight["file"])), 100)
        self.assertTrue(weight["file"].startswith(f"weights/{long[:60]}-"))
        self.assertTrue(os.path.isfile(os.path.join(out, weight["file"])))
        # The reference interpreter follows model.json to the files.
        self.assertIn(doc["outputs"][0], numerics.run_bundle(out))

    def test_scalar_add_is_rejected_with_reason(self):
        out = os.path.join(self.tmp, "b")
        rc, _, err = run_main([os.path.join(TESTDATA, "scalar_add.py"), out])
        self.assertEqual(rc, 1)
        self.assertIn("unsupported operator aten.add.Tensor at node 'add'", err)
        self.assertIn("ScalarAdd", err)
        self.assertIn("scalar operand", err)
        self.assertFalse(os.path.exists(out))

    def test_inplace_ops_and_nested_modules(self):
        model = os.path.join(TESTDATA, "inplace_model.py")
        out = os.path.join(self.tmp, "b")
        rc, _, err = run_main([model, out])
        self.assertEqual(rc, 0, err)
        doc = numerics.load_model_json(out)
        self.assertEqual([n["op"] for n in doc["nodes"]],
                         ["linear", "relu", "add", "linear", "relu", "add", "linear"])
        line = marker_line(model, "BLOCK-FC-LINE")
        self.assertEqual(doc["nodes"][0]["source"],
                         {"module": "blocks.0.fc", "type": "Linear", "location": f"inplace_model.py:{line}"})
        self.assertEqual(doc["nodes"][5]["source"]["module"], "blocks.1")
        self.assertEqual(doc["nodes"][5]["inputs"], ["relu_1", "add"])
        for r in numerics.check_bundle(out).values():
            self.assertTrue(r["match"])
            self.assertLessEqual(r["max_err_lsb"], MAX_ERR_LSB)

    def test_sequential_without_user_frames(self):
        out = os.path.join(self.tmp, "b")
        rc, stdout, err = run_main([os.path.join(TESTDATA, "sequential_model.py"), out])
        self.assertEqual(rc, 0, err)
        self.assertEqual(stdout, f"exported sequential_model: 2 nodes, 5 tensors -> {out}\n")
        doc = numerics.load_model_json(out)
        self.assertEqual([n["source"] for n in doc["nodes"]],
                         [{"module": "0", "type": "Linear", "location": None},
                          {"module": "1", "type": "ReLU", "location": None}])
        # The trailing eval-mode Dropout is skipped: the ReLU output is the model output.
        self.assertEqual(doc["outputs"], ["relu"])

    def test_width_and_frac_options(self):
        out = os.path.join(self.tmp, "b")
        rc, _, err = run_main([os.path.join(EXAMPLES, "tiny_mlp.py"), out, "--width", "12",
                               "--frac", "6"])
        self.assertEqual(rc, 0, err)
        doc = numerics.load_model_json(out)
        self.assertTrue(all(t["format"] == {"signed": True, "width": 12, "frac": 6}
                            for t in doc["tensors"]))
        x = numerics.load_golden(out, "inputs", "fixed")["x"]
        self.assertTrue(np.all(np.abs(x) <= 64))
        self.assertTrue(all(r["match"] for r in numerics.check_bundle(out).values()))
        out2 = os.path.join(self.tmp, "b2")
        rc, _, err = run_main([os.path.join(EXAMPLES, "tiny_mlp.py"), out2, "--width", "20",
                               "--frac", "10"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(np.load(os.path.join(out2, "weights", "fc1.weight.npy")).dtype,
                         np.dtype("<i4"))
        # 24-bit operands overflow the 48-bit accumulator: clear error, nothing written.
        out3 = os.path.join(self.tmp, "b3")
        rc, _, err = run_main([os.path.join(EXAMPLES, "mlp.py"), out3, "--width", "24"])
        self.assertEqual(rc, 1)
        self.assertIn("accumulator", err)
        self.assertFalse(os.path.exists(out3))
        rc, _, err = run_main([os.path.join(EXAMPLES, "mlp.py"), out3, "--frac", "17"])
        self.assertEqual(rc, 1)
        self.assertIn("frac", err)


if __name__ == "__main__":
    unittest.main()
