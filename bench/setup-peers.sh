#!/usr/bin/env bash
# Installs the benchmark peers that the npm workspace does not carry (run as root, or with sudo):
#   - PyTorch 2.13 (pip wheel, MKL) in bench/.venv-torch, from pip's local find-links (offline);
#   - Debian's PyTorch 1.13 with OpenBLAS (libopenblas0-pthread, loaded through LD_LIBRARY_PATH by the bench).
# jax-js and tfjs-wasm are npm dependencies of bench/ (`pnpm install`). Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
if installed python3-torch && installed libopenblas0-pthread; then
  echo "python3-torch and libopenblas0-pthread: installed"
else
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends python3-torch libopenblas0-pthread >/dev/null
fi
# PyTorch 2.13 for the pyenv/system python3 first on PATH (the wheel is cp311); --system-site-packages lets it
# use the machine's numpy if present. Without the wheel the bench says so and keeps the 1.13 + OpenBLAS column.
if [ -x .venv-torch/bin/python ] && .venv-torch/bin/python -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  echo "PyTorch 2.13 in bench/.venv-torch: installed"
else
  python3 -m venv --system-site-packages .venv-torch
  if ! .venv-torch/bin/pip install -q --no-deps --no-index torch==2.13.0; then
    echo "setup-peers: no torch 2.13.0 wheel in pip's find-links; the PyTorch 2.13 columns will say 'not installed'" >&2
  fi
fi
