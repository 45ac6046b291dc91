#!/usr/bin/env bash
# Installs everything the full test suite needs on Debian 12 with Node 20 (run as root, or with sudo):
# pnpm, PyTorch (live round-trip tests), and the headless-GL toolchain that builds gpu.js's `gl`
# (scripts/setup-gpu.sh), then the workspace's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3 python3-torch graphviz git >/dev/null
command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version)" = "12.4.2" ] || $SUDO npm i -g pnpm@12.4.2
bash scripts/setup-gpu.sh --no-install
# node-gyp (for `gl`) must not download Node's headers: they are in /usr/include/node
export npm_config_nodedir=/usr JOBS=2
pnpm install --frozen-lockfile
