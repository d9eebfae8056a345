"""The digits examples: the committed weights and held-out split give the accuracies the README
reports, float and fixed point (scripts/digits_accuracy.py; no scikit-learn needed)."""
import argparse
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import digits_accuracy  # noqa: E402


class DigitsAccuracy(unittest.TestCase):
    def test_held_out_accuracy_float_and_fixed_point(self):
        args = argparse.Namespace(simulate=None, keep=None, mlcalyx=None)
        expected = {"mlp": 348, "cnn": 354}  # of 360: 96.67 % and 98.33 %
        with tempfile.TemporaryDirectory() as tmp:
            for kind, correct in expected.items():
                r = digits_accuracy.evaluate(kind, tmp, args)
                self.assertEqual(r["images"], 360, kind)
                self.assertEqual(round(r["float_accuracy"] * 360), correct, kind)
                self.assertEqual(round(r["fixed_accuracy"] * 360), correct, kind)
                self.assertEqual(r["predictions_differing"], 0, kind)
                self.assertEqual(r["source"], "reference", kind)


if __name__ == "__main__":
    unittest.main()
