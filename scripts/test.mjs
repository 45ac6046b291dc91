#!/usr/bin/env node
// Runs the vitest suite once per backend: the JS reference (WEDGE_BACKEND=cpu) and the wasm engine
// (WEDGE_BACKEND=wasm, skipped with a message where WebAssembly SIMD is unavailable). WEDGE_BACKENDS
// picks the list (e.g. WEDGE_BACKENDS=wasm). Without a display, each run goes under `xvfb-run -a`
// when that exists, so the GPU tests get a real headless GL context (Mesa); elsewhere they skip.
import { spawnSync } from 'node:child_process';

/** The simd128 probe of packages/core/src/backend/wasm/index.ts. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 17, 26, 11]);
const simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);

const backends = (process.env.WEDGE_BACKENDS ?? 'cpu,wasm').split(',').filter(Boolean);
const args = ['vitest', 'run', ...process.argv.slice(2)];
const hasXvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0;
const wrap = !process.env.DISPLAY && hasXvfb && process.platform === 'linux';
const [cmd, cmdArgs] = wrap ? ['xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', 'npx', ...args]] : ['npx', args];
if (!wrap && !process.env.DISPLAY) console.error('[wedge] no DISPLAY and no xvfb-run: GPU tests that need GL will skip');

// Suites that do not depend on the backend (the packed tarballs, the API docs, the browser, which
// picks its backends in the page, as the playground's browser test does, the bench, whose peers pick theirs) run once, in the last pass.
const ONCE = ['test/consumer/**', 'test/docs/**', 'test/browser/**', 'test/bench/**', 'test/playground/browser.test.ts'];

const runs = backends.filter((backend) => {
  if (backend === 'wasm' && !simd) console.error('[wedge] WebAssembly SIMD is unavailable here: the suite runs on the cpu backend only');
  return backend !== 'wasm' || simd;
});
let status = 0;
for (const [i, backend] of runs.entries()) {
  console.log(`\n[wedge] test suite on backend '${backend}'`);
  const once = i < runs.length - 1 ? [...ONCE.flatMap((g) => ['--exclude', g]), '--passWithNoTests'] : [];
  const result = spawnSync(cmd, [...cmdArgs, ...once], { stdio: 'inherit', env: { ...process.env, WEDGE_BACKEND: backend } });
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);
