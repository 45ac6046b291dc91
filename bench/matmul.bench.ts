// Matmul float32 GFLOP/s: Wedge's CPU kernel next to a plain i-k-j loop and (when installed) PyTorch,
// on square sizes and the attention-shaped batched case, each with transposed operands as views.
// Run: `pnpm --filter bench matmul` (add `-- --quick` for a short smoke run). Prints a markdown table.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Benchmark from 'benchmark';
import { Generator, getBackend, matmul, noGrad, randn, type Tensor } from '@wedge/core';

type Variant = 'ab' | 'abT' | 'aTb';

interface Case {
  /** Case id, e.g. `256-abT` or `bmm-dA` (also the key of PyTorch's results). */
  readonly key: string;
  /** Shape column of the table, e.g. `256×256×256` or `[128,63,16]@[128,16,63]`. */
  readonly label: string;
  readonly batch: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly variant: Variant;
}

const SEED = 0;
const QUICK = process.argv.includes('--quick');
const PYTHON = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));

const VARIANT_TEXT: Record<Variant, string> = { ab: 'a @ b', abT: 'a @ bᵀ', aTb: 'aᵀ @ b' };

function cases(): Case[] {
  const out: Case[] = [];
  const sizes = QUICK ? [64, 128] : [64, 128, 256, 512];
  for (const n of sizes) {
    for (const variant of ['ab', 'abT', 'aTb'] as const) {
      out.push({ key: `${n}-${variant}`, label: `${n}×${n}×${n}`, batch: 1, M: n, K: n, N: n, variant });
    }
  }
  // Attention with B·H = 128, T = 63, head dim 16: scores q @ kᵀ, then the two backward products
  // dA = G @ Bᵀ ([128,63,63] @ [128,16,63]ᵀ) and dB = Aᵀ @ G ([128,63,16]ᵀ @ [128,63,63]).
  const B = 128, T = 63, D = 16;
  for (const variant of ['ab', 'abT', 'aTb'] as const) {
    out.push({ key: `bmm-${variant}`, label: `[${B},${T},${D}]@[${B},${D},${T}]`, batch: B, M: T, K: D, N: T, variant });
  }
  out.push({ key: 'bmm-dA', label: `[${B},${T},${T}]@[${B},${D},${T}]ᵀ`, batch: B, M: T, K: T, N: D, variant: 'abT' });
  out.push({ key: 'bmm-dB', label: `[${B},${T},${D}]ᵀ@[${B},${T},${T}]`, batch: B, M: D, K: T, N: T, variant: 'aTb' });
  return out;
}

/** a [.., M, K] and b [.., K, N]; a transposed operand is a view of a tensor stored the other way. */
function operands(c: Case, generator: Generator): [Tensor, Tensor] {
  const lead = c.batch > 1 ? [c.batch] : [];
  const a = c.variant === 'aTb'
    ? randn([...lead, c.K, c.M], { generator }).transpose(-2, -1)
    : randn([...lead, c.M, c.K], { generator });
  const b = c.variant === 'abT'
    ? randn([...lead, c.N, c.K], { generator }).transpose(-2, -1)
    : randn([...lead, c.K, c.N], { generator });
  return [a, b];
}

/**
 * The baseline: Wedge's kernel before blocking. For each row i and each k, add A[i,k]·B[k,:] into a
 * float64 row, reading both operands through their strides (as the old kernel did).
 */
function ikjBaseline(a: Tensor, b: Tensor): Float32Array {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.ndim - 1];
  const batch = a.ndim === 3 ? a.shape[0] : 1;
  const A = a.storage.read(), B = b.storage.read();
  const [as0, as1] = a.strides.slice(-2);
  const [bs0, bs1] = b.strides.slice(-2);
  const ap = a.ndim === 3 ? a.strides[0] : 0, bp = b.ndim === 3 ? b.strides[0] : 0;
  const out = new Float32Array(batch * M * N);
  const row = new Float64Array(N);
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = A[a.offset + p * ap + i * as0 + k * as1];
        const bk = b.offset + p * bp + k * bs0;
        for (let j = 0; j < N; j++) row[j] += aik * B[bk + j * bs1];
      }
      out.set(row, (p * M + i) * N);
    }
  }
  return out;
}

interface Timing {
  /** GFLOP/s of the fastest benchmark.js sample (least disturbed by the other users of the machine). */
  best: number;
  /** GFLOP/s of the mean, and its relative margin of error in %. */
  mean: number;
  rme: number;
}

/**
 * Times `fn` with benchmark.js. Short cycles (minTime 10 ms) and many samples give the fastest
 * sample a fair chance to run undisturbed on a machine shared with other jobs.
 */
function time(name: string, flops: number, fn: () => unknown, samples: number): Timing {
  const bench = new Benchmark(name, fn, { minSamples: QUICK ? 3 : samples, minTime: 0.01, maxTime: QUICK ? 0.3 : 3, initCount: 1 });
  bench.run();
  if (bench.error) throw bench.error;
  const fastest = Math.min(...bench.stats.sample);
  return { best: flops / fastest / 1e9, mean: flops / bench.stats.mean / 1e9, rme: bench.stats.rme };
}

interface TorchResults {
  version: string;
  /** Path of the BLAS library torch loaded (Debian's torch calls whatever libblas.so.3 points to). */
  blas: string;
  /** torch.get_num_threads() before we set it. */
  defaultThreads: number;
  /** The thread counts timed: 1, the default, and one per core (deduplicated). */
  threadCounts: number[];
  /** GFLOP/s per case key, per thread count. */
  results: Record<string, Record<string, number>>;
}

function torchTimings(all: Case[]): TorchResults | string {
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
    return `PyTorch not found for ${PYTHON} (apt-get install python3-torch): its columns are empty`;
  }
  const payload = JSON.stringify(all.map(({ key, batch, M, K, N, variant }) => ({ key, batch, M, K, N, variant })));
  const r = spawnSync(PYTHON, [path.join(HERE, 'matmul_torch.py'), payload], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return `PyTorch run failed: ${r.stderr.trim().split('\n').pop()}`;
  const parsed = JSON.parse(r.stdout);
  return { version: parsed.version, blas: parsed.blas, defaultThreads: parsed.default_threads, threadCounts: parsed.thread_counts, results: parsed.results };
}

function gitCommit(): string {
  try {
    const hash = execSync('git rev-parse --short HEAD', { cwd: HERE, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- ../packages/core/src/backend/cpu/matmul.ts matmul.bench.ts matmul_torch.py', { cwd: HERE, encoding: 'utf8' }).trim();
    return dirty === '' ? hash : `${hash} (+ uncommitted changes to the kernel or bench)`;
  } catch {
    return 'unknown';
  }
}

/** Largest |x − y| relative to the largest |y|: a check that the fast kernel computes the product. */
function relDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / (scale || 1);
}

function main(): void {
  Benchmark.support.decompilation = false; // call the closures as they are (they capture operands)
  const all = cases();
  const cpu = os.cpus();
  const header = [
    `machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start`,
    `node ${process.version}, backend ${getBackend().name}, commit ${gitCommit()}, ${new Date().toISOString()}, seed ${SEED}`,
  ];
  console.log(header.join('\n'));
  const torch = torchTimings(all);
  const threadCounts = typeof torch === 'string' ? [1] : torch.threadCounts;
  const generator = new Generator(SEED);
  const rows: string[] = [];
  const bestOf = new Map<string, number>(); // case key → Wedge's best GFLOP/s, for the target line
  noGrad(() => {
    const inputs = all.map((c) => operands(c, generator));
    // Check every case, which also warms the JIT up on all shapes before any timing (so a later
    // case does not pay for re-optimising code that earlier cases specialised).
    all.forEach((c, i) => {
      const [a, b] = inputs[i];
      const diff = relDiff(matmul(a, b).data(), ikjBaseline(a, b));
      if (diff > 1e-6) throw new Error(`matmul bench: Wedge and the i-k-j loop differ by ${diff} on ${c.key}`);
    });
    for (const [i, c] of all.entries()) {
      const [a, b] = inputs[i];
      const flops = 2 * c.batch * c.M * c.K * c.N;
      const wedge = time(`wedge ${c.key}`, flops, () => matmul(a, b), 30);
      const ikj = time(`ikj ${c.key}`, flops, () => ikjBaseline(a, b), 5);
      const t = typeof torch === 'string' ? undefined : torch.results[c.key];
      const f = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(2));
      const torchCells = threadCounts.map((n) => f(t?.[String(n)]));
      const row = `| ${c.label} | ${VARIANT_TEXT[c.variant]} | **${f(wedge.best)}** | ${f(wedge.mean)} ± ${wedge.rme.toFixed(0)}% | ${f(ikj.best)} | ${torchCells.join(' | ')} |`;
      rows.push(row);
      bestOf.set(c.key, wedge.best);
      console.error(row); // progress while it runs
    }
  });
  const torchHeads = threadCounts.map((n) => {
    const label = `PyTorch ${n} thread${n === 1 ? '' : 's'}`;
    return typeof torch !== 'string' && n === torch.defaultThreads ? `${label} (its default)` : label;
  });
  console.log('');
  console.log(`Float32 matmul, GFLOP/s (2·batch·M·K·N / time; higher is better). Wedge and i-k-j: benchmark.js, best sample and mean ± rme.`);
  if (typeof torch === 'string') console.log(torch);
  else {
    // NOTE: Debian's torch calls whatever libblas.so.3 points to. With only libblas3 installed that
    // is the unoptimised reference BLAS (2–5 GFLOP/s here); installing libopenblas0 switches it.
    const reference = torch.blas.includes('/blas/libblas.so') ? ' (the reference BLAS of libblas3, unoptimised)' : '';
    console.log(`PyTorch ${torch.version}, BLAS ${torch.blas}${reference}, torch.matmul, best of 5 rounds of ≥ 0.2 s.`);
  }
  console.log('');
  console.log(`| shape (M×K×N or batched) | product | Wedge | Wedge mean | i-k-j loop (the old kernel) | ${torchHeads.join(' | ')} |`);
  console.log(`|---|---|---:|---:|---:|${torchHeads.map(() => '---:|').join('')}`);
  for (const r of rows) console.log(r);
  // The target: ≥ 3 GFLOP/s at 256 and 512 for every product.
  const slowest = (keys: string[]): string => {
    let worst = '';
    for (const k of keys) if (worst === '' || bestOf.get(k)! < bestOf.get(worst)!) worst = k;
    return worst === '' ? 'not run' : `${bestOf.get(worst)!.toFixed(2)} GFLOP/s (${worst})`;
  };
  const square = all.filter((c) => c.batch === 1 && c.M >= 256).map((c) => c.key);
  const batched = all.filter((c) => c.batch > 1).map((c) => c.key);
  console.log('');
  console.log(`Slowest Wedge product at 256 and 512: ${slowest(square)}; slowest batched: ${slowest(batched)}.`);
}

main();
