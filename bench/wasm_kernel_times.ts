// Where one training step's time goes, kernel by kernel: the default model (vocab 16, d_model 64,
// 4 heads, seq_len 64, batch 32) trained for a few steps with every kernel of the wasm and the JS
// reference backend wrapped in a timer. A profiling aid for the wasm backend, not a benchmark table.
// Run: pnpm --filter bench exec tsx wasm_kernel_times.ts [wasm|cpu] [threads]
import { Adam, Generator, type Kernel, cpuBackend, getBackend, setBackend, setNumThreads } from '@wedge/core';
import { TestModel, generateCopyBatch, trainStep } from '@wedge/models';
import { commit, machine } from './harness.ts';

const backend = process.argv[2] ?? 'wasm';
const threads = Number(process.argv[3] ?? 1);
setBackend(backend);
if (backend === 'wasm') setNumThreads(threads);
const m = machine();
console.log(`${m.cpu}, ${m.cores} cores, load ${m.load.map((l) => l.toFixed(1)).join(' ')} · node ${process.version} · commit ${commit()} · backend ${backend}${backend === 'wasm' ? `, ${threads} thread(s)` : ''}`);

const ms = new Map<string, number>();
for (const b of new Set([getBackend(), cpuBackend])) {
  const table = b.kernels as Record<string, Kernel>;
  for (const [name, k] of Object.entries(table)) {
    table[name] = (inputs, attrs, self) => {
      const t0 = performance.now();
      const out = k(inputs, attrs, self);
      ms.set(`${name}@${b.name}`, (ms.get(`${name}@${b.name}`) ?? 0) + performance.now() - t0);
      return out;
    };
  }
}

const STEPS = 10;
for (const attnType of ['standard', 'triple'] as const) {
  const model = new TestModel({ vocab: 16, dModel: 64, nHead: 4, maxLen: 64, attnType, generator: new Generator(0) });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const [inputs, targets] = generateCopyBatch(32, 64, 16, new Generator(1));
  for (let i = 0; i < 3; i++) trainStep(model, opt, inputs, targets);
  ms.clear();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) trainStep(model, opt, inputs, targets);
  const step = (performance.now() - t0) / STEPS;
  const rows = [...ms].sort((a, b) => b[1] - a[1]);
  const inKernels = rows.reduce((s, [, v]) => s + v, 0) / STEPS;
  console.log(`\n${attnType}: ${step.toFixed(1)} ms per step, ${inKernels.toFixed(1)} ms in timed kernels (registered ones, gramDet and rope, count as outside)`);
  for (const [k, v] of rows.slice(0, 12)) console.log(`  ${(v / STEPS).toFixed(2).padStart(7)} ms  ${k}`);
}
