// useGpu() and the dispatch policy: one clear line (and the CPU backend) when no GL context can be
// had, TF.js-style CPU hand-off of small calls, per-kernel fallback for what the GPU lacks.
import { describe, it, beforeAll, afterAll, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { argmax, cast, getCpuEngine, logKernels, matmul, randn, setBackend, tensor, Generator } from '@wedge/core';
import { GPU_BACKEND, gpuInfo, noGpuMessage, useGpu } from '@wedge/gpu';
import { MODES } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Kernel calls made by `fn`, as 'kernel@backend'. */
function dispatched(fn: () => void): string[] {
  const calls: string[] = [];
  logKernels((kernel, backend) => calls.push(`${kernel}@${backend}`));
  try {
    fn();
  } finally {
    logKernels(null);
  }
  return calls;
}

describe('useGpu() without a GL context', () => {
  it('prints one line naming the fix, returns false and the program carries on on the CPU', () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/gpu/fixtures/use_gpu_child.ts'], { cwd: root, env, encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[wedge\/gpu\] no GL context \((headless GL needs an X display and DISPLAY is not set|the native 'gl' package is not built.*)\); staying on the CPU backend\. Fix: run scripts\/setup-gpu\.sh once \(outside the Wedge repository: "Headless GL in Node" in @wedge\/gpu's README\), then run under `xvfb-run -a`\.$/);
    const out = JSON.parse(child.stdout.trim());
    expect(out.ok).toBe(false);
    expect(out.backend).toBe(getCpuEngine().name); // the default CPU engine: wasm, or the JS reference
    expect(out.y).toBeCloseTo(Math.E + Math.E ** 2 + Math.E ** 3, 4);
  });
});

describe('noGpuMessage', () => {
  it('gives browser advice in a browser, with no Node, X or script hints', () => {
    const msg = noGpuMessage('this environment has no WebGL2', 'browser');
    expect(msg).toBe(
      "[wedge/gpu] no WebGL2 (this environment has no WebGL2); staying on the CPU backend. Fix: turn on hardware acceleration in the browser's settings (chrome://gpu shows WebGL's status), or use a browser with WebGL2; in a Web Worker it also needs OffscreenCanvas.",
    );
    expect(msg).not.toMatch(/xvfb|setup-gpu|Node|DISPLAY|\bgl\b/);
  });

  it('defaults to the Node advice under Node', () => {
    expect(noGpuMessage('r')).toBe(noGpuMessage('r', 'node'));
    expect(noGpuMessage('r')).toMatch(/scripts\/setup-gpu\.sh/);
  });
});

for (const { mode, skip } of MODES) {
  describe.skipIf(skip)(`gpu dispatch policy (${mode})`, () => {
    beforeAll(() => {
      expect(useGpu({ mode, cpuHandoffSize: 4096 })).toBe(true);
    });
    afterAll(() => setBackend(getCpuEngine().name));

    it('reports its mode and activity', () => {
      const info = gpuInfo();
      expect(info?.mode).toBe(mode);
      expect(info?.active).toBe(true);
    });

    it('hands small all-CPU calls to the CPU and runs large ones on the GPU', () => {
      const g = new Generator(1);
      const small = randn([10, 10], { generator: g });
      const large = randn([64, 65], { generator: g });
      // "the CPU" is the default CPU engine (the wasm backend where it runs), next in the chain
      const cpu = getCpuEngine().name;
      expect(dispatched(() => small.add(1))).toEqual([`add@${cpu}`]);
      expect(dispatched(() => large.add(1))).toEqual([`add@${GPU_BACKEND}`]);
      // matmul weighs its work M·N·K against 64 × the hand-off size (a 64×64×64 product)
      expect(dispatched(() => matmul(randn([63, 64], { generator: g }), randn([64, 64], { generator: g })))).toEqual([`matmul@${cpu}`]);
      expect(dispatched(() => matmul(randn([64, 64], { generator: g }), randn([64, 64], { generator: g })))).toEqual([`matmul@${GPU_BACKEND}`]);
    });

    it('keeps a small call on the GPU when an input already lives there (no round trip)', () => {
      const onGpu = randn([64, 65], { generator: new Generator(2) }).exp();
      expect(onGpu.device).toBe('gpu');
      const row = onGpu.slice(0, 0, 1); // [1, 65], a view of the GPU texture
      expect(dispatched(() => row.mul(2))).toEqual([`mul@${GPU_BACKEND}`]);
    });

    it('falls back per kernel for what it lacks or declines (int32, float64, argmax), with correct results', () => {
      const x = randn([64, 65], { generator: new Generator(3) }).exp(); // on the GPU
      const calls = dispatched(() => {
        argmax(x, -1);
        cast(x, 'int32');
        randn([64, 65], { generator: new Generator(4), dtype: 'float64' }).exp();
      });
      // argmax falls to the next in the chain, the default CPU engine (wasm has argmax); wasm has no cast and
      // no float64 exp, so those two fall on to the JS reference
      expect(calls).toEqual([`argmax@${getCpuEngine().name}`, 'cast@cpu', 'exp@cpu']);
      // the CPU kernel reads the GPU tensor's values through a download
      const values = Array.from({ length: 64 * 65 }, (_, i) => (i * 37) % 101);
      const v = tensor(values, { shape: [64, 65] }).add(0);
      expect(v.device).toBe('gpu');
      const want = Array.from({ length: 64 }, (_, r) => {
        const row = values.slice(r * 65, r * 65 + 65);
        return row.indexOf(Math.max(...row));
      });
      expect(argmax(v, -1).toArray()).toEqual(want);
    });
  });
}
