#!/usr/bin/env python3
"""Run the layer suite (harness/tests/layers/*.py, one small model per layer case in the manner
of hls4ml's PyTorch API tests) through `mlcalyx run FILE --banking B --json` and print a status
table: per case and banking factor the cycles and whether the design is bit-exact, or the first
line of the error it fails on (an op the exporter or compiler does not handle yet, ...).

Usage: scripts/layer_suite.py [--banking 1,2] [--mlcalyx PATH] [--json] [CASE_SUBSTRING...]
Exit status: 0 when every selected case is bit-exact at every factor, else 1.
The committed test (harness/tests/layers.rs) asserts the cases that work.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = os.path.join(ROOT, "harness", "tests", "layers")


def find_mlcalyx() -> str:
    for profile in ("release", "debug"):
        p = os.path.join(ROOT, "target", profile, "mlcalyx")
        if os.access(p, os.X_OK):
            return p
    sys.exit("layer_suite: no mlcalyx binary in target/: run `cargo build -p mlcalyx-harness`")


def first_error_line(text: str) -> str:
    """The error, on one line: "exporting FILE failed:" is followed by the exporter's reason."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    msg = lines[0].removeprefix("mlcalyx: error: ")
    if msg.endswith(":") and len(lines) > 1:
        msg = lines[1]
    return msg


def run_case(mlcalyx: str, path: str, banking: str) -> list:
    """One dict per factor: {banking, status, cycles, bit_exact, max_abs_err, error}."""
    p = subprocess.run([mlcalyx, "run", path, "--banking", banking, "--json"],
                       capture_output=True, text=True)
    try:
        rows = json.loads(p.stdout)
    except json.JSONDecodeError:
        err = first_error_line(p.stderr)
        return [{"banking": int(b), "status": "error", "error": err} for b in banking.split(",")]
    return [{k: r.get(k) for k in ("banking", "status", "cycles", "bit_exact", "max_abs_err",
                                   "error")} for r in rows]


def cell(row: dict) -> str:
    if row["status"] == "ok":
        return f"ok {row['cycles']}"
    return row["status"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="run only cases whose name contains one of these")
    ap.add_argument("--banking", default="1,2", help="comma-separated factors (default 1,2)")
    ap.add_argument("--mlcalyx", default=None, help="the mlcalyx binary (default: target/)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    mlcalyx = args.mlcalyx or find_mlcalyx()
    files = sorted(glob.glob(os.path.join(LAYERS, "*.py")))
    names = [os.path.splitext(os.path.basename(f))[0] for f in files]
    selected = [(n, f) for n, f in zip(names, files)
                if not args.cases or any(c in n for c in args.cases)]
    results = {}
    factors = args.banking.split(",")
    if not args.json:
        print(f"{'case':<30} " + " ".join(f"{'banking ' + b:>14}" for b in factors) + "  error")
    for name, path in selected:
        rows = run_case(mlcalyx, path, args.banking)
        results[name] = rows
        if not args.json:
            errors = [r["error"] for r in rows if r.get("error")]
            print(f"{name:<30} " + " ".join(f"{cell(r):>14}" for r in rows)
                  + (f"  {errors[0]}" if errors else ""), flush=True)
    ok = sum(all(r["status"] == "ok" for r in rows) for rows in results.values())
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"\n{ok} of {len(results)} cases bit-exact at banking {args.banking}")
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
