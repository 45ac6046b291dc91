// What every benchmark process shares: the cases and configs, the timing rules, the machine/commit
// banner, and the one-line JSON protocol by which a peer process hands its results back.
// The Python peer (peer_torch.py) mirrors `timeGflops` and the step loop; keep the two in step.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(BENCH_DIR, '..');

/** `full`: the tables; `quick`: fewer rounds and steps, same shapes; `smoke`: tiny shapes, one step (tests). */
export type Mode = 'full' | 'quick' | 'smoke';

export type Variant = 'ab' | 'abT' | 'aTb';
export const VARIANT_TEXT: Record<Variant, string> = { ab: 'a @ b', abT: 'a @ bᵀ', aTb: 'aᵀ @ b' };

/** One product a [.., M, K] @ b [.., K, N]; a transposed operand is a view of a tensor stored the other way. */
export interface MatmulCase {
  readonly key: string; //   e.g. `256-abT`, `bmm-ab`
  readonly label: string; // e.g. `256³`, `[128,63,16]@[128,16,63]`
  readonly batch: number;
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly variant: Variant;
  /** Which target applies: square 256³/512³ (≥ 40 GFLOP/s on 2 threads, ≥ 25 on one) or batched (≥ 10). */
  readonly kind: 'square' | 'batched' | 'extra';
}

export function matmulCases(mode: Mode): MatmulCase[] {
  const out: MatmulCase[] = [];
  const square = (n: number, kind: MatmulCase['kind']) => {
    for (const variant of ['ab', 'abT', 'aTb'] as const) {
      out.push({ key: `${n}-${variant}`, label: `${n}³`, batch: 1, M: n, K: n, N: n, variant, kind });
    }
  };
  if (mode === 'smoke') {
    square(32, 'square');
    out.push({ key: 'bmm-ab', label: '[4,7,4]@[4,4,7]', batch: 4, M: 7, K: 4, N: 7, variant: 'ab', kind: 'batched' });
    return out;
  }
  square(64, 'extra');
  square(256, 'square');
  square(512, 'square');
  // The default model's attention: B·H = 32·4 = 128, T = 63, head dim 16. Scores q @ kᵀ, then the two
  // backward products dA = G @ Bᵀ ([128,63,63] @ [128,16,63]ᵀ) and dB = Aᵀ @ G ([128,63,16]ᵀ @ [128,63,63]).
  const B = 128, T = 63, D = 16;
  for (const variant of ['ab', 'abT', 'aTb'] as const) {
    out.push({ key: `bmm-${variant}`, label: `[${B},${T},${D}]@[${B},${D},${T}]`, batch: B, M: T, K: D, N: T, variant, kind: 'batched' });
  }
  out.push({ key: 'bmm-dA', label: `[${B},${T},${T}]@[${B},${D},${T}]ᵀ`, batch: B, M: T, K: T, N: D, variant: 'abT', kind: 'batched' });
  out.push({ key: 'bmm-dB', label: `[${B},${T},${D}]ᵀ@[${B},${T},${T}]`, batch: B, M: D, K: T, N: T, variant: 'aTb', kind: 'batched' });
  return out;
}

export const flopsOf = (c: MatmulCase): number => 2 * c.batch * c.M * c.K * c.N;

/** Timing rule for matmul: `rounds` rounds, each as many calls as fit in `minTimeMs`; the best round's mean counts. */
export interface MatmulTiming {
  readonly minTimeMs: number;
  readonly rounds: number;
}
export const matmulTiming = (mode: Mode): MatmulTiming =>
  mode === 'full' ? { minTimeMs: 100, rounds: 5 } : mode === 'quick' ? { minTimeMs: 50, rounds: 3 } : { minTimeMs: 1, rounds: 1 };

/**
 * GFLOP/s of `fn` under `timing`, after 3 warm-up calls. The fastest round is the one least
 * disturbed by other jobs on the machine. `fn` may be async (jax-js waits for its workers).
 */
export async function timeGflops(flops: number, fn: () => unknown, timing: MatmulTiming): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  let best = 0;
  for (let r = 0; r < timing.rounds; r++) {
    let calls = 0;
    let elapsed = 0;
    const t0 = performance.now();
    do {
      await fn();
      calls++;
      elapsed = performance.now() - t0;
    } while (elapsed < timing.minTimeMs);
    best = Math.max(best, (flops * calls) / (elapsed * 1e6));
  }
  return best;
}

export type Attn = 'standard' | 'triple';
export const ATTNS: readonly Attn[] = ['standard', 'triple'];

/** A training-step config of the seed's model (Adam, lr 1e-3), and how many steps to time. */
export interface StepConfig {
  readonly name: string; // e.g. `d64/T64/B32`
  readonly vocab: number;
  readonly dModel: number;
  readonly nHead: number;
  /** The copy task's sequence length: the model sees seqLen − 1 tokens. */
  readonly seqLen: number;
  readonly batch: number;
  readonly lr: number;
  readonly seed: number;
  readonly warmup: number;
  readonly steps: number;
}

const config = (dModel: number, seqLen: number, batch: number, warmup: number, steps: number): StepConfig => ({
  name: `d${dModel}/T${seqLen}/B${batch}`, vocab: 16, dModel, nHead: 4, seqLen, batch, lr: 1e-3, seed: 0, warmup, steps,
});

/** The copy task's default: vocab 16, d_model 64, 4 heads, seq_len 64, batch 32. */
export function defaultStepConfig(mode: Mode): StepConfig {
  if (mode === 'smoke') return { ...config(16, 8, 2, 1, 1), nHead: 2 };
  return mode === 'quick' ? config(64, 64, 32, 2, 5) : config(64, 64, 32, 5, 20);
}

/** The scaling table's configs: wider, longer, longest (the four). */
export function scalingConfigs(mode: Mode): StepConfig[] {
  if (mode === 'smoke') return [defaultStepConfig(mode)];
  const [w, s] = mode === 'quick' ? [1, 3] : [2, 6];
  return [config(64, 64, 32, w + 2, s + 10), config(256, 256, 8, w, s), config(64, 512, 4, w, s), config(64, 1024, 2, w, s)];
}

export interface StepTiming {
  readonly median: number;
  readonly min: number;
  readonly mean: number;
  /**
   * Loss at the first and the last step. Wedge, jax-js and tfjs start from the same weights and see the
   * same batches, so theirs agree to float32 rounding; PyTorch draws its own init.
   */
  readonly firstLoss: number;
  readonly lastLoss: number;
}

export function summarize(ms: number[], firstLoss: number, lastLoss: number): StepTiming {
  const s = [...ms].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median, min: s[0], mean: ms.reduce((a, b) => a + b, 0) / ms.length, firstLoss, lastLoss };
}

/** Times `step` (which returns the loss once the step is done): warm-up steps, then the timed ones. */
export async function timeSteps(cfg: StepConfig, step: (i: number) => number | Promise<number>): Promise<StepTiming> {
  const ms: number[] = [];
  let firstLoss = NaN;
  let loss = NaN;
  for (let i = 0; i < cfg.warmup + cfg.steps; i++) {
    const t0 = performance.now();
    loss = await step(i);
    if (i >= cfg.warmup) ms.push(performance.now() - t0);
    if (i === 0) firstLoss = loss;
  }
  return summarize(ms, firstLoss, loss);
}

/** What a peer process is asked to do (argv[2] is this as JSON). */
export type Job =
  | { task: 'matmul'; cases: MatmulCase[]; timing: MatmulTiming }
  | { task: 'step'; configs: StepConfig[]; attns: Attn[] };

/** What it answers: one JSON line on stdout, prefixed by RESULT_TAG. */
export interface PeerReport {
  /** e.g. `PyTorch 2.13.0+cpu`, `Wedge wasm`. */
  readonly name: string;
  /** Library, BLAS, thread details, in words. */
  readonly detail: string;
  /** matmul: case key → GFLOP/s; step: `${config}:${attn}` → timing. */
  readonly gflops?: Record<string, number>;
  readonly steps?: Record<string, StepTiming>;
  /** Peak resident set size of the peer's process, MiB. */
  readonly peakRssMiB: number;
}

export const RESULT_TAG = '@@wedge-bench-result ';
export const stepKey = (cfg: StepConfig, attn: Attn): string => `${cfg.name}:${attn}`;

export function parseJob(argv: string[] = process.argv): Job {
  if (!argv[2]) throw new Error('bench peer: pass the job as JSON (argv[2]); run the tables through run.ts');
  return JSON.parse(argv[2]) as Job;
}

/** Sends the report to the parent; Node's maxRSS is in KiB on Linux. */
export function report(r: Omit<PeerReport, 'peakRssMiB'>): void {
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${RESULT_TAG}${JSON.stringify({ ...r, peakRssMiB })}\n`);
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly load: readonly number[];
}

/** The CPU model as /proc/cpuinfo names it (os.cpus() agrees on Linux; this works without it too). */
export function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return { cpu, cores: os.cpus().length, load: os.loadavg() };
}

/** Short commit hash, `-dirty` when tracked files differ from it. */
export function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=10', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}
