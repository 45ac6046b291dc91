// CPU backend vs GPU backend (@wedge/gpu through gpu.js): square matmuls, an elementwise chain and
// one copy-task training step at the default config and at d_model 256, seq_len 256.
// Run: `xvfb-run -a pnpm --filter bench gpu` (add `-- --quick` for a short run). Prints markdown.
// NOTE: on a machine without a GPU, headless GL renders with Mesa's llvmpipe (software GL on the
// CPU): these numbers then prove the pipeline works, not that it is fast.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Adam, Generator, noGrad, randn, setBackend, tidy, type Tensor } from '@wedge/core';
import { TestModel, generateCopyBatch, trainStep, type AttnType } from '@wedge/models';
import { GPU_BACKEND, gpuInfo, gpuMemory, headlessGlRenderer, useGpu } from '@wedge/gpu';

const QUICK = process.argv.includes('--quick');
const SEED = 0;
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Median wall time of `fn` in ms, after `warmup` untimed runs; at least `runs` runs and ~`minMs` in all. */
function time(fn: () => void, { warmup = 1, runs = 3, minMs = QUICK ? 300 : 1500 } = {}): number {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < runs || (performance.now() - start < minMs && samples.length < 50)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function gitCommit(): string {
  try {
    const hash = execSync('git rev-parse --short HEAD', { cwd: HERE, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- ../packages/gpu ../packages/core/src gpu.bench.ts', { cwd: HERE, encoding: 'utf8' }).trim();
    return dirty === '' ? hash : `${hash} (+ uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}

/** What the "GPU" is: without NVIDIA's device files, Xvfb's GL is Mesa's software rasteriser. */
function glDevice(): string {
  const gl = headlessGlRenderer() ?? 'no GL';
  return existsSync('/dev/nvidiactl') ? `${gl} on an NVIDIA GPU` : `${gl} on Mesa llvmpipe software GL, not a GPU`;
}

const on = (backend: 'cpu' | 'gpu', fn: () => void) => (): void => {
  setBackend(backend === 'cpu' ? 'cpu' : GPU_BACKEND);
  fn();
};

/** Run `fn` and free every GPU texture it left (the benchmark must not grow memory). */
const freeing = (fn: () => Tensor[]) => (): void => {
  for (const t of fn()) t.dispose();
};

/**
 * How far the GPU's float32 results are from the CPU backend's (which accumulates in float64 and
 * rounds once): matmul errors in units of 2⁻²⁴·Σ|aᵢₖbₖⱼ|, elementwise errors relative to |cpu|.
 */
function precision(g: Generator): void {
  console.log('\n| precision vs the CPU backend | worst error | stated tolerance (docs/gpu.md) |');
  console.log('|---|---|---|');
  for (const n of [64, 512]) {
    const [a, b] = [randn([n, n], { generator: g }), randn([n, n], { generator: g })];
    setBackend('cpu');
    const want = a.matmul(b).data();
    const mag = a.abs().matmul(b.abs()).data();
    setBackend(GPU_BACKEND);
    const gv = tidy(() => a.matmul(b).data());
    let worst = 0;
    for (let i = 0; i < gv.length; i++) worst = Math.max(worst, Math.abs(gv[i] - want[i]) / (2 ** -24 * mag[i]));
    console.log(`| matmul ${n}×${n}×${n} | \\|Δ\\| ≤ ${worst.toFixed(1)}·2⁻²⁴·Σ\\|aᵢₖbₖⱼ\\| | \\|Δ\\| ≤ (K + 2)·2⁻²⁴·Σ\\|aᵢₖbₖⱼ\\| = ${n + 2}·2⁻²⁴·Σ… |`);
  }
  setBackend('cpu');
  const x = randn([1 << 20], { generator: g }).mul(3);
  const ops: [string, (t: Tensor) => Tensor][] = [
    ['exp', (t) => t.exp()],
    ['tanh', (t) => t.tanh()],
    ['sigmoid', (t) => t.sigmoid()],
    ['sin', (t) => t.sin()],
    ['log (of \\|x\\| + 0.001)', (t) => t.abs().add(1e-3).log()],
    ['softmax over rows of 1024', (t) => t.reshape([1024, 1024]).softmax(-1)],
  ];
  for (const [name, f] of ops) {
    setBackend('cpu');
    const want = f(x).data();
    setBackend(GPU_BACKEND);
    const gv = tidy(() => f(x).data());
    // in units of the stated tolerance 2e-6 + 2e-5·|y|: at most 1 passes
    let worst = 0, rel = 0;
    for (let i = 0; i < gv.length; i++) {
      const d = Math.abs(gv[i] - want[i]);
      worst = Math.max(worst, d / (2e-6 + 2e-5 * Math.abs(want[i])));
      rel = Math.max(rel, d / Math.max(Math.abs(want[i]), 1));
    }
    console.log(`| ${name}, 2²⁰ values of x ~ N(0, 9) | ${worst.toFixed(3)} of the tolerance (\\|Δ\\| / max(\\|y\\|, 1) ≤ ${rel.toExponential(1)}) | \\|Δ\\| ≤ 2e-6 + 2e-5·\\|y\\| |`);
  }
}

function main(): void {
  const cpu = os.cpus();
  if (!useGpu()) {
    console.error('bench/gpu: no GL context (see the line above); run under `xvfb-run -a` after scripts/setup-gpu.sh');
    process.exit(1);
  }
  console.log(`## GPU backend benchmark${QUICK ? ' (quick)' : ''}\n`);
  console.log(`- machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
  console.log(`- GPU backend: gpu.js ${gpuInfo()?.mode} → ${glDevice()}`);
  console.log(`- on a real GPU: not yet measured on a GPU`);
  console.log(`- node ${process.version}, commit ${gitCommit()}, ${new Date().toISOString()}, seed ${SEED}, median of ≥ 3 runs after a warm-up (which compiles the shaders)\n`);

  const g = new Generator(SEED);
  console.log('| case | CPU backend | GPU, one round trip | GPU, pipelined | pipelined vs CPU |');
  console.log('|---|---|---|---|---|');
  for (const n of QUICK ? [128, 256] : [128, 256, 512]) {
    const [a, b, c, d] = [0, 1, 2, 3].map(() => randn([n, n], { generator: g }));
    const flops = 2 * n ** 3;
    // round trip: inputs uploaded, one matmul, result read back; pipelined: ((a·b)·c)·d on the GPU, one read
    const tCpu = time(on('cpu', () => void a.matmul(b).data()));
    const tTrip = time(on('gpu', freeing(() => {
      const y = a.matmul(b);
      y.data();
      return [y];
    })));
    const tChain = time(on('gpu', freeing(() => {
      const ab = a.matmul(b), abc = ab.matmul(c), y = abc.matmul(d);
      y.data();
      return [ab, abc, y];
    }))) / 3;
    const gf = (ms: number): string => `${ms.toFixed(1)} ms (${(flops / ms / 1e6).toFixed(2)} GFLOP/s)`;
    console.log(`| matmul ${n}×${n}×${n} | ${gf(tCpu)} | ${gf(tTrip)} | ${gf(tChain)} per product, chain of 3 | ${(tCpu / tChain).toFixed(2)}× |`);
  }
  {
    const [x, w] = [randn([1024, 1024], { generator: g }), randn([1024], { generator: g })];
    const chain = (): Tensor[] => {
      const t1 = x.mul(w), t2 = t1.add(1), t3 = t2.tanh(), t4 = t3.mul(x), y = t4.exp();
      y.data();
      return [t1, t2, t3, t4, y];
    };
    const tCpu = time(on('cpu', () => void chain()));
    const tGpu = time(on('gpu', freeing(chain)));
    console.log(`| elementwise chain on [1024, 1024]: exp(tanh(x·w + 1)·x), 5 kernels, one read | ${tCpu.toFixed(1)} ms | – | ${tGpu.toFixed(1)} ms | ${(tCpu / tGpu).toFixed(2)}× |`);
  }

  console.log('\n| training step (copy task, Adam) | CPU backend | GPU backend: first step (compiles) | GPU backend | GPU vs CPU |');
  console.log('|---|---|---|---|---|');
  const configs = [
    { label: 'default: B 32, T 64, d_model 64, 4 heads', batch: 32, seqLen: 64, dModel: 64, nHead: 4 },
    ...(QUICK ? [] : [{ label: 'larger: B 32, T 256, d_model 256, 4 heads', batch: 32, seqLen: 256, dModel: 256, nHead: 4 }]),
  ];
  for (const cfg of configs) {
    for (const attnType of ['standard', 'triple'] as AttnType[]) {
      const model = new TestModel({ vocab: 16, dModel: cfg.dModel, nHead: cfg.nHead, maxLen: cfg.seqLen, attnType, generator: new Generator(SEED) });
      const opt = new Adam(model.parameters(), { lr: 1e-3 });
      const data = new Generator(SEED + 1);
      const [inputs, targets] = noGrad(() => generateCopyBatch(cfg.batch, cfg.seqLen, 16, data));
      const step = (): void => void trainStep(model, opt, inputs, targets);
      const runs = cfg.dModel > 64 ? 2 : 3;
      const tCpu = time(on('cpu', step), { warmup: 1, runs, minMs: 0 });
      const compiles0 = gpuInfo()!.compiles;
      const t0 = performance.now();
      on('gpu', step)();
      const tFirst = performance.now() - t0;
      const compiled = gpuInfo()!.compiles - compiles0;
      const tGpu = time(on('gpu', step), { warmup: 0, runs, minMs: 0 });
      console.log(`| ${attnType}, ${cfg.label} | ${tCpu.toFixed(0)} ms | ${tFirst.toFixed(0)} ms (${compiled} shaders) | ${tGpu.toFixed(0)} ms | ${(tCpu / tGpu).toFixed(2)}× |`);
    }
  }
  precision(g);
  setBackend('cpu');
  const mem = gpuMemory();
  console.log(`\nGPU textures still owned by tensors at the end: ${mem.liveTextures} (made ${mem.created}; ${mem.freedByGc} left to the GC)`);
}

main();
