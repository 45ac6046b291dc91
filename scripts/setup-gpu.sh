#!/usr/bin/env bash
# Set up headless GL for @wedge/gpu in Node on Debian/Ubuntu: the packages that build the native `gl`
# module (gpu.js's optional dependency, compiled from source: ~4.5 minutes on 2 cores) and the X
# server it renders through (Xvfb), then compile `gl` and check that a context opens.
#
# You need this only to run the GPU backend (or its GL tests) in Node. `pnpm install` installs `gl`
# but never compiles it (pnpm-workspace.yaml: `allowBuilds: gl: false`), so a plain install prints no
# node-gyp errors; without the build everything else works and useGpu() stays on the CPU with one
# line saying why. In a browser nothing is needed (gpu.js uses WebGL2).
#
# Usage: scripts/setup-gpu.sh [--no-install]   (--no-install: system packages only, no build, no check)
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
  echo "setup-gpu: system packages installed; now run: bash scripts/setup-gpu.sh"
  exit 0
fi
[ -d node_modules/.pnpm ] || pnpm install

# gl, found as gpu.js finds it (resolved from gpu.js's own location)
GL_DIR=$(node --input-type=module -e "
  import { createRequire } from 'node:module';
  import { dirname } from 'node:path';
  const fromGpu = createRequire(createRequire(process.cwd() + '/packages/gpu/package.json').resolve('gpu.js'));
  console.log(dirname(fromGpu.resolve('gl/package.json')));
")
if [ -f "$GL_DIR/build/Release/webgl.node" ]; then
  echo "setup-gpu: gl is already built ($GL_DIR)"
else
  mkdir -p .tmp
  log="$PWD/.tmp/gl-build.log"
  echo "setup-gpu: compiling gl from source (a few minutes; log: .tmp/gl-build.log)"
  # NOTE: node-gyp would download Node's headers (no internet on CI): point it at the local ones.
  if [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi
  # gl's own install script (`prebuild-install || node-gyp rebuild`), with its bundled node-gyp on PATH
  if ! (cd "$GL_DIR" && JOBS="${JOBS:-$(nproc)}" npm run install >"$log" 2>&1); then
    tail -n 30 "$log" >&2
    echo "setup-gpu: building gl failed; the full log is .tmp/gl-build.log" >&2
    exit 1
  fi
  echo "setup-gpu: gl built"
fi

echo "setup-gpu: checking that headless GL opens a context under xvfb-run"
xvfb-run -a node --input-type=module -e "
  import { createRequire } from 'node:module';
  const fromGpu = createRequire(createRequire(process.cwd() + '/packages/gpu/package.json').resolve('gpu.js'));
  const gl = fromGpu('gl')(1, 1);
  if (!gl) { console.error('setup-gpu: gl loaded but opened no context'); process.exit(1); }
  console.log('setup-gpu: headless GL works:', gl.getParameter(gl.VERSION));
" || {
  echo "setup-gpu: headless GL does not work yet; see the messages above (is 'gl' built? ls $GL_DIR/build/Release)" >&2
  exit 1
}
echo "setup-gpu: done. Run GPU code under \`xvfb-run -a\`, e.g. xvfb-run -a npx vitest run test/gpu"
