#!/usr/bin/env bash
# Installs everything the full test suite needs on Debian 12 with Node 20 (run as root, or with sudo):
# pnpm, PyTorch (live round-trip tests), Chromium (the browser tests, driven by playwright-core), the
# workspace's packages, then headless GL for the GPU tests (scripts/setup-gpu.sh: compiles gpu.js's
# native `gl`, which a plain `pnpm install` leaves unbuilt, and checks that a context opens).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3 python3-torch graphviz git chromium >/dev/null
command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version)" = "12.4.2" ] || $SUDO npm i -g pnpm@12.4.2
pnpm install --frozen-lockfile
bash scripts/setup-gpu.sh
