#!/usr/bin/env bash
# The main job on the bundled example: export examples/mlp.py, compile, simulate, compare, count cycles.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
exec "$root/target/release/mlcalyx" run "$root/examples/mlp.py" "$@"
