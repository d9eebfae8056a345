"""Tests for scripts/fuzz_models.py and the MLCALYX_FORMAT of model files (stdlib unittest).

Run from the repository root:
    .venv/bin/python -m unittest discover -s scripts -p 'test_*.py'
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export  # noqa: E402
import fuzz_models  # noqa: E402
import numerics  # noqa: E402

SPEC = {
    "name": "s1-m0", "seed": 5, "format": {"width": 10, "frac": 4},
    "input_shape": [1, 2, 6], "input_scale": 100.0, "weight_scale": 8.0,
    "layers": [
        {"op": "linear", "out": 5, "bias": True},
        {"op": "relu"},
        {"op": "flatten"},
        {"op": "add_self"},
        {"op": "residual", "bias": False, "relu": True},
        {"op": "reshape", "shape": [1, 5, 2]},
        {"op": "linear", "out": 1, "bias": False},
    ],
}


class FuzzModelTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlcalyx-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_a_spec_becomes_a_model_file_and_its_bundle(self):
        d = os.path.join(self.tmp, "case")
        self.assertEqual(fuzz_models.handle({"spec": SPEC, "dir": d}), {"ok": True})
        doc = numerics.load_model_json(os.path.join(d, "bundle"))
        self.assertEqual([n["op"] for n in doc["nodes"]],
                         ["linear", "relu", "flatten", "add", "linear", "relu", "add", "flatten",
                          "linear"])
        # x + x: one tensor twice.
        add = doc["nodes"][3]
        self.assertEqual(add["inputs"], ["flatten", "flatten"])
        self.assertTrue(all(t["format"] == {"signed": True, "width": 10, "frac": 4}
                            for t in doc["tensors"]))
        # The input scale saturates the quantized input at the format's limits.
        x = numerics.load_golden(os.path.join(d, "bundle"), "inputs", "fixed")["x"]
        self.assertEqual((x.min(), x.max()), (-512, 511))
        self.assertTrue(all(r["match"] for r in
                            numerics.check_bundle(os.path.join(d, "bundle")).values()))
        # The model file alone reproduces the bundle through export.py's command line.
        again = os.path.join(self.tmp, "again")
        p = subprocess.run([sys.executable, os.path.join(HERE, "export.py"),
                            os.path.join(d, "model.py"), again], capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        for rel in ["model.json", "golden/linear_2.npy", "weights/fc0.weight.npy"]:
            with open(os.path.join(d, "bundle", rel), "rb") as a, \
                    open(os.path.join(again, rel), "rb") as b:
                self.assertEqual(a.read(), b.read(), rel)

    def test_the_server_answers_one_line_per_request(self):
        bad = dict(SPEC, layers=[{"op": "conv"}])
        overflow = dict(SPEC, format={"width": 30, "frac": 4}, input_shape=[1, 70],
                        layers=[{"op": "linear", "out": 3, "bias": False}])
        requests = [{"spec": SPEC, "dir": os.path.join(self.tmp, "a")},
                    {"spec": bad, "dir": os.path.join(self.tmp, "b")},
                    {"spec": overflow, "dir": os.path.join(self.tmp, "c")}]
        p = subprocess.run([sys.executable, os.path.join(HERE, "fuzz_models.py"), "--serve"],
                           input="".join(json.dumps(r) + "\n" for r in requests),
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        answers = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(answers[0], {"ok": True})
        self.assertEqual(answers[1], {"ok": False, "kind": "internal",
                                      "error": "ValueError: unknown op 'conv' in spec s1-m0"})
        self.assertEqual(answers[2]["kind"], "rejected")
        self.assertIn("accumulator overflow risk", answers[2]["error"])
        self.assertEqual(len(answers), 3)


class ModelFileFormatTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlcalyx-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def model(self, fmt_line: str) -> str:
        path = os.path.join(self.tmp, "m.py")
        with open(path, "w") as f:
            f.write("import torch\n" + fmt_line + "\n"
                    "def build():\n"
                    "    return torch.nn.Linear(3, 2), (torch.rand(1, 3),)\n")
        return path

    def formats(self, bundle: str) -> set:
        doc = numerics.load_model_json(bundle)
        return {(t["format"]["width"], t["format"]["frac"]) for t in doc["tensors"]}

    def test_mlcalyx_format_sets_the_format_and_options_override_it(self):
        m = self.model('MLCALYX_FORMAT = {"width": 12, "frac": 3}')
        export.export_model(m, os.path.join(self.tmp, "a"))
        self.assertEqual(self.formats(os.path.join(self.tmp, "a")), {(12, 3)})
        export.main([m, os.path.join(self.tmp, "b"), "--frac", "5"])
        self.assertEqual(self.formats(os.path.join(self.tmp, "b")), {(16, 5)})
        export.export_model(self.model(""), os.path.join(self.tmp, "c"))
        self.assertEqual(self.formats(os.path.join(self.tmp, "c")), {(16, 8)})

    def test_a_bad_mlcalyx_format_is_a_clear_error(self):
        for line, message in [
            ('MLCALYX_FORMAT = {"width": 12, "fraction": 3}',
             "MLCALYX_FORMAT must be a dict with keys 'width' and 'frac', got "
             "{'width': 12, 'fraction': 3}"),
            ('MLCALYX_FORMAT = {"width": 12, "frac": 13}',
             "MLCALYX_FORMAT: format frac must be in [0, width=12], got 13"),
        ]:
            with self.assertRaises(export.ExportError) as e:
                export.export_model(self.model(line), os.path.join(self.tmp, "x"))
            self.assertEqual(str(e.exception), message)
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "x")))


if __name__ == "__main__":
    unittest.main()
