#!/usr/bin/env bash
# The test command: set up, then every test (Rust workspace and the Python exporter).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
.venv/bin/python -m unittest discover -s scripts -p 'test_*.py'
cargo test --workspace
