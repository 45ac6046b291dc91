#!/usr/bin/env bash
# Set up headless GL for @wedge/gpu on Debian/Ubuntu: the packages that build the native `gl`
# module (gpu.js's optional dependency, compiled from source: ~4.5 minutes on 2 cores) and the X
# server it renders through (Xvfb), then rebuild `gl` and check that a context opens.
#
# You need this only to run the GPU backend (or its GL tests) in Node. Without it everything else
# works: `gl` is optional, pnpm install succeeds, and useGpu() stays on the CPU with one line saying
# why. In a browser nothing is needed (gpu.js uses WebGL2).
#
# Usage: scripts/setup-gpu.sh [--no-install]   (--no-install: system packages only, no pnpm install, no check)
set -euo pipefail

cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# build: node-gyp's toolchain and the X/GL headers gl compiles against; run: Xvfb and xauth (xvfb-run)
PACKAGES=(build-essential python3 pkg-config libxi-dev libglu1-mesa-dev libglew-dev xvfb xauth)
echo "setup-gpu: apt-get install ${PACKAGES[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${PACKAGES[@]}" >/dev/null

if [ "${1:-}" = "--no-install" ]; then
  echo "setup-gpu: system packages installed; now run: npm_config_nodedir=/usr pnpm install"
  exit 0
fi
# NOTE: node-gyp would download Node's headers (no internet on CI): point it at the local ones.
if [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi
echo "setup-gpu: pnpm install (compiles gl from source when it is not built yet)"
pnpm install

echo "setup-gpu: checking that headless GL opens a context under xvfb-run"
xvfb-run -a node --input-type=module -e "
  import { createRequire } from 'node:module';
  const fromGpu = createRequire(createRequire(process.cwd() + '/packages/gpu/package.json').resolve('gpu.js'));
  const gl = fromGpu('gl')(1, 1);
  if (!gl) { console.error('setup-gpu: gl loaded but opened no context'); process.exit(1); }
  console.log('setup-gpu: headless GL works:', gl.getParameter(gl.VERSION));
" || {
  echo "setup-gpu: headless GL does not work yet; see the messages above (is 'gl' built? ls node_modules/.pnpm/gl@*/node_modules/gl/build/Release)" >&2
  exit 1
}
echo "setup-gpu: done. Run GPU code under \`xvfb-run -a\`, e.g. xvfb-run -a npx vitest run test/gpu"
