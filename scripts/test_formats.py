"""Tests for scripts/formats.py and export.py's --precision, --calibrate and --formats
(stdlib unittest; run like test_export.py)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numerics  # noqa: E402
from formats import FormatError, fit_format, load_formats_file, parse_precision  # noqa: E402
from numerics import Format  # noqa: E402
from test_ops import TempDirTests, export_source, seq_model  # noqa: E402

TESTDATA = os.path.join(HERE, "testdata")


def formats_of(bundle: str) -> dict:
    doc = numerics.load_model_json(bundle)
    return {t["name"]: (t["format"]["width"], t["format"]["frac"]) for t in doc["tensors"]}


def max_err(bundle: str) -> float:
    return max(r["max_abs_err"] for r in numerics.check_bundle(bundle).values())


class FitTests(unittest.TestCase):
    def test_fewest_integer_bits(self):
        self.assertEqual(fit_format([0.0], 16), Format(True, 16, 15))
        self.assertEqual(fit_format([-1.0, 0.99], 16), Format(True, 16, 15))
        self.assertEqual(fit_format([0.99999], 16), Format(True, 16, 14))  # rounds up to 1.0
        self.assertEqual(fit_format([-3.0, 1.5], 16), Format(True, 16, 13))
        self.assertEqual(fit_format([200.0], 8), Format(True, 8, 0))  # saturates even at frac 0

    def test_precision_and_formats_file(self):
        self.assertEqual(parse_precision("12,6"), Format(True, 12, 6))
        for bad in ("16", "16,8,1", "a,b", "40,8", "16,16"):
            with self.subTest(precision=bad):
                with self.assertRaises(FormatError):
                    parse_precision(bad)
        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, "f.json")
            with open(path, "w") as f:
                json.dump({"x": {"width": 12, "frac": 9}}, f)
            self.assertEqual(load_formats_file(path), {"x": Format(True, 12, 9)})
            with open(path, "w") as f:
                json.dump({"x": {"width": 12}}, f)
            with self.assertRaisesRegex(FormatError, "tensor 'x': expected"):
                load_formats_file(path)
        finally:
            shutil.rmtree(tmp)


class CalibrateTests(TempDirTests):
    def export(self, model_file: str, calibrate: bool = False) -> str:
        import export
        out = os.path.join(self.tmp, f"{os.path.basename(model_file)}-{calibrate}.bundle")
        export.export_model(model_file, out, calibrate=calibrate)
        return out

    def test_issue_targets(self):
        """issue 12 "Numerics": --calibrate at 16 bits <= 0.0011 (MLP) and <= 0.0024
        (LeNet-5) max abs error vs float; Q8.8 gives 0.0042 on the MLP."""
        mlp = os.path.join(TESTDATA, "hls4ml_mlp.py")
        self.assertAlmostEqual(max_err(self.export(mlp)), 0.0042, delta=0.0001)
        self.assertLessEqual(max_err(self.export(mlp, calibrate=True)), 0.0011)
        lenet = os.path.join(TESTDATA, "hls4ml_lenet.py")
        self.assertLessEqual(max_err(self.export(lenet, calibrate=True)), 0.0024)

    def test_tied_groups_share_a_format_and_ranges_are_recorded(self):
        rc, err, out = export_source(self.tmp, "tied", seq_model(
            "nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3), nn.Sigmoid()", (50, 4)), ["--calibrate"])
        self.assertEqual(rc, 0, err)
        f = formats_of(out)
        self.assertEqual(f["linear"], f["relu"])
        self.assertEqual(f["sigmoid.table"], f["sigmoid"])
        self.assertEqual(f["sigmoid"], (16, 15))  # (0, 1) fits s16.15 (1.0 itself is not seen)
        doc = numerics.load_model_json(out)
        cal = doc["calibration"]
        self.assertEqual(list(cal), [t["name"] for t in doc["tensors"]])
        self.assertEqual(cal[doc["inputs"][0]]["count"], 200)
        self.assertTrue(all(v["saturated"] == 0 for v in cal.values()))
        self.assertTrue(all(r["match"] for r in numerics.check_bundle(out).values()))

    def test_precision_records_saturation(self):
        rc, err, out = export_source(self.tmp, "sat", seq_model("nn.Linear(4, 3)", (10, 4)),
                                     ["--precision", "8,7"])
        self.assertEqual(rc, 0, err)
        doc = numerics.load_model_json(out)
        self.assertEqual(set(formats_of(out).values()), {(8, 7)})
        x = doc["calibration"][doc["inputs"][0]]
        # inputs are uniform in [-2, 2); s8.7 holds [-1, 127/128]
        flt = numerics.load_golden(out, "inputs", "float")[doc["inputs"][0]]
        over = (np.floor(flt * 128 + 0.5) > 127) | (flt < -128.5 / 128)
        self.assertEqual(x["saturated"], int(np.count_nonzero(over)))
        self.assertGreater(x["saturated"], 0)
        self.assertNotIn("calibration", numerics.load_model_json(
            export_source(self.tmp, "plain", seq_model("nn.Linear(4, 3)", (10, 4)))[2]))

    def test_formats_file(self):
        path = os.path.join(self.tmp, "formats.json")
        with open(path, "w") as f:
            json.dump({"relu": {"width": 16, "frac": 11}, "0.weight": {"width": 12, "frac": 2}},
                      f)
        rc, err, out = export_source(self.tmp, "override", seq_model(
            "nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)", (5, 4)), ["--calibrate", "--formats",
                                                                      path])
        self.assertEqual(rc, 0, err)
        f = formats_of(out)
        self.assertEqual(f["0.weight"], (12, 2))
        # the override reaches relu's whole group; linear's output frac is capped at Fx + Fw
        fx = f[numerics.load_model_json(out)["inputs"][0]][1]
        self.assertEqual(f["linear"], f["relu"])
        self.assertEqual(f["relu"], (16, min(11, fx + 2)))
        with open(path, "w") as fh:
            json.dump({"nope": {"width": 16, "frac": 8}}, fh)
        rc, err, _ = export_source(self.tmp, "override2", seq_model("nn.Linear(4, 3)", (5, 4)),
                                   ["--formats", path])
        self.assertEqual(rc, 1)
        self.assertIn("--formats names tensor 'nope', which the bundle does not have", err)
        with open(path, "w") as fh:
            json.dump({"linear": {"width": 16, "frac": 8}, "relu": {"width": 16, "frac": 9}}, fh)
        rc, err, _ = export_source(self.tmp, "override3", seq_model(
            "nn.Linear(4, 3), nn.ReLU()", (5, 4)), ["--formats", path])
        self.assertEqual(rc, 1)
        self.assertIn("they must share one format", err)

    def test_calibrated_cnn_ops_stay_exact(self):
        rc, err, out = export_source(self.tmp, "cnn", seq_model(
            "nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.BatchNorm2d(4), "
            "nn.AvgPool2d(2), nn.ELU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3), "
            "nn.Softmax(dim=1)", (4, 2, 8, 8)), ["--calibrate", "--precision", "12,6"])
        self.assertEqual(rc, 0, err)
        self.assertTrue(all(r["match"] for r in numerics.check_bundle(out).values()))
        self.assertLessEqual(max_err(out), 0.01)
        self.assertTrue(all(w == 12 for w, _ in formats_of(out).values() if w != 16))


if __name__ == "__main__":
    unittest.main()
