// Command-line flags of the copy-task example: parsing, validation (one-line errors), --help.
import { parseArgs } from 'node:util';
import { getCpuEngine } from '@wedge/core';
import { DEFAULT_TRAIN_CONFIG, type AttnType } from '@wedge/models';

export interface CliOptions {
  attn: AttnType[];
  steps: number;
  batch: number;
  seqLen: number;
  vocab: number;
  dModel: number;
  heads: number;
  lr: number;
  seed: number;
  evalEvery: number;
  evalSize: number;
  /** wasm: the WebAssembly SIMD engine; cpu: the JS reference backend; gpu: @wedge/gpu. */
  backend: 'wasm' | 'cpu' | 'gpu';
  /** Output directory (absolute), or null for runs/<date-time>/. */
  out: string | null;
  /** Checkpoints to start from (absolute paths), at most one per attention type. */
  init: string[];
  /** Seeds per model: seed, seed + 1, …, seed + seeds − 1. */
  seeds: number;
  /** Worker threads training in parallel (default: one per core, at most one per job). */
  jobs: number | null;
  /** Run the loud-key probe on each trained model. */
  probeLoud: boolean;
  /** Hub tokens (0 … K − 1) whose initial embeddings are scaled by hubScale. */
  hubTokens: number;
  hubScale: number;
  /** Extra copy-sequence lengths to evaluate the trained models at. */
  evalLengths: number[];
  /** An interrupted run to continue (absolute path of its --out folder), or null. */
  resume: string | null;
  /** Save a training checkpoint every N steps (0: never). */
  checkpointEvery: number;
  quiet: boolean;
  help: boolean;
}

/** A bad flag or value: printed as one line, exit status 2. */
export class UsageError extends Error {}

const D = DEFAULT_TRAIN_CONFIG;

export const HELP = `Usage: pnpm --filter examples copy-task [options]

Train the seed's one-layer model with standard and with triple-product attention on the copy
task, side by side, and report loss, copy accuracy and speed.

Options:
  --attn standard|triple|both   attention types to train (default: both)
  --steps N                     Adam steps per model (default: ${D.steps})
  --batch N                     sequences per batch (default: ${D.batchSize})
  --seq-len N                   copy-sequence length, rounded up to even (default: ${D.seqLen})
  --vocab N                     vocabulary size (default: ${D.vocab})
  --d-model N                   model width (default: ${D.dModel})
  --heads N                     attention heads; d-model / heads must be even (default: ${D.nHead})
  --lr X                        Adam learning rate (default: ${D.lr})
  --seed N                      seeds weights, batches and the eval set (default: ${D.seed})
  --eval-every N                evaluate every N steps (default: ${D.evalEvery})
  --eval-size N                 held-out sequences (default: ${D.evalSize})
  --backend wasm|cpu|gpu        compute engine (default: wasm, or cpu under WEDGE_BACKEND=cpu):
                                  wasm  WebAssembly SIMD kernels on the CPU, multithreaded
                                  cpu   the plain JS reference backend (slow; the definition
                                        the other engines are tested against)
                                  gpu   gpu.js through @wedge/gpu (needs GL; falls back to the
                                        CPU engine, and says so, without a context)
  --out DIR                     output directory (default: runs/<date-time>/)
  --init FILE.safetensors       start from these weights (a checkpoint of this example or of the
                                seed's PyTorch model); give it once per attention type
  --seeds N                     train each model from N seeds (seed, seed+1, …) and report the mean
                                and a 95 % Student-t interval across them (default: 1)
  --jobs N                      models training at once, each in its own worker thread; the
                                wasm engine splits the cores among them (WEDGE_NUM_THREADS
                                overrides). Default: wasm trains one model at a time on every
                                core (measured faster than one worker per core); cpu runs one
                                worker per core
  --probe-loud                  after training, make one earlier key loud (m = 1, 5, 10, 50, 100)
                                and measure the attention it captures and the copy accuracy
  --hub-tokens K                tokens 0 … K−1 start with embeddings scaled by --hub-scale (default: 0)
  --hub-scale S                 the hub tokens' embedding scale (default: 10 when --hub-tokens is set)
  --eval-lengths L1,L2,…        also measure copy accuracy at these sequence lengths (e.g. 128,256,512)
  --checkpoint-every N          save a resumable checkpoint every N steps (default: 0, never)
  --resume DIR                  continue the interrupted run whose --out was DIR, bit for bit
  --quiet                       no progress bars, no per-eval lines
  -h, --help                    show this help

Writes results.json, loss/accuracy plots (SVG and PNG) and one safetensors checkpoint per model
into a new folder (it refuses one that already holds files); the folder appears complete or not
at all: the run is assembled in DIR.partial and renamed at the end.`;

function int(flag: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < min) {
    throw new UsageError(`--${flag} must be an integer ≥ ${min}, got '${raw}'`);
  }
  return v;
}

/**
 * Parse argv (without node and the script). Relative paths resolve against `cwd`.
 * @example parseCli(['--attn', 'triple', '--steps', '100'], process.cwd())
 */
export function parseCli(argv: string[], cwd: string, resolvePath: (cwd: string, p: string) => string): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      // `pnpm --filter examples copy-task -- --steps 3` passes the separator through: drop a leading one
      args: argv[0] === '--' ? argv.slice(1) : argv,
      strict: true,
      allowPositionals: false,
      options: {
        attn: { type: 'string' },
        steps: { type: 'string' },
        batch: { type: 'string' },
        'seq-len': { type: 'string' },
        vocab: { type: 'string' },
        'd-model': { type: 'string' },
        heads: { type: 'string' },
        lr: { type: 'string' },
        seed: { type: 'string' },
        'eval-every': { type: 'string' },
        'eval-size': { type: 'string' },
        backend: { type: 'string' },
        out: { type: 'string' },
        init: { type: 'string', multiple: true },
        seeds: { type: 'string' },
        jobs: { type: 'string' },
        'probe-loud': { type: 'boolean' },
        'hub-tokens': { type: 'string' },
        'hub-scale': { type: 'string' },
        'eval-lengths': { type: 'string' },
        'checkpoint-every': { type: 'string' },
        resume: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    // node's messages run over several sentences; keep one line that names the flag
    const msg = String((e as Error).message);
    const ambiguous = /Option '(--[\w-]+)' argument is ambiguous/.exec(msg);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} needs a value; write ${ambiguous[1]}=VALUE for one that starts with '-'`);
    throw new UsageError(`${msg.split('\n')[0].replace(/\. To specify.*$/, '')} (see --help)`);
  }
  const v = parsed.values;
  const attnRaw = v.attn ?? 'both';
  if (!['standard', 'triple', 'both'].includes(attnRaw)) {
    throw new UsageError(`--attn must be standard, triple or both, got '${attnRaw}'`);
  }
  // the default is the default CPU engine: wasm where WebAssembly SIMD runs, unless WEDGE_BACKEND=cpu
  const backend = v.backend ?? (getCpuEngine().name === 'wasm' ? 'wasm' : 'cpu');
  if (backend !== 'wasm' && backend !== 'cpu' && backend !== 'gpu') throw new UsageError(`--backend must be wasm, cpu or gpu, got '${backend}'`);
  let lr = D.lr;
  if (v.lr !== undefined) {
    lr = Number(v.lr);
    if (v.lr.trim() === '' || !Number.isFinite(lr) || lr <= 0) throw new UsageError(`--lr must be a positive number, got '${v.lr}'`);
  }
  let hubScale = v['hub-tokens'] !== undefined ? 10 : 1;
  if (v['hub-scale'] !== undefined) {
    hubScale = Number(v['hub-scale']);
    if (v['hub-scale'].trim() === '' || !Number.isFinite(hubScale) || hubScale <= 0) {
      throw new UsageError(`--hub-scale must be a positive number, got '${v['hub-scale']}'`);
    }
  }
  const evalLengths = v['eval-lengths'] === undefined ? [] : v['eval-lengths'].split(',').map((x) => int('eval-lengths', x, 0, 2));
  for (const [flag, raw] of [['out', v.out], ['resume', v.resume]] as const) {
    if (raw !== undefined && raw.trim() === '') throw new UsageError(`--${flag} must name a folder, got ''`);
  }
  const opts: CliOptions = {
    attn: attnRaw === 'both' ? ['standard', 'triple'] : [attnRaw as AttnType],
    steps: int('steps', v.steps, D.steps),
    batch: int('batch', v.batch, D.batchSize),
    seqLen: int('seq-len', v['seq-len'], D.seqLen, 2),
    vocab: int('vocab', v.vocab, D.vocab, 2),
    dModel: int('d-model', v['d-model'], D.dModel),
    heads: int('heads', v.heads, D.nHead),
    lr,
    seed: int('seed', v.seed, D.seed, 0),
    evalEvery: int('eval-every', v['eval-every'], D.evalEvery),
    evalSize: int('eval-size', v['eval-size'], D.evalSize),
    backend,
    out: v.out === undefined ? null : resolvePath(cwd, v.out),
    init: (v.init ?? []).map((p) => resolvePath(cwd, p)),
    seeds: int('seeds', v.seeds, 1),
    jobs: v.jobs === undefined ? null : int('jobs', v.jobs, 1),
    probeLoud: v['probe-loud'] ?? false,
    hubTokens: int('hub-tokens', v['hub-tokens'], 0, 0),
    hubScale,
    evalLengths,
    resume: v.resume === undefined ? null : resolvePath(cwd, v.resume),
    checkpointEvery: int('checkpoint-every', v['checkpoint-every'], 0, 0),
    quiet: v.quiet ?? false,
    help: v.help ?? false,
  };
  if (opts.resume !== null) {
    const others = Object.keys(v).filter((k) => !['resume', 'quiet', 'jobs'].includes(k));
    if (others.length > 0) {
      throw new UsageError(`--resume continues the interrupted run with its own flags; drop ${others.map((k) => `--${k}`).join(', ')} (only --quiet and --jobs may change)`);
    }
  }
  if (opts.hubTokens > opts.vocab) throw new UsageError(`--hub-tokens (${opts.hubTokens}) must be at most --vocab (${opts.vocab})`);
  if (v['hub-scale'] !== undefined && opts.hubTokens === 0) throw new UsageError('--hub-scale needs --hub-tokens K');
  if (opts.seed + opts.seeds - 1 > Number.MAX_SAFE_INTEGER - 3) throw new UsageError(`--seed ${opts.seed} with --seeds ${opts.seeds} runs past the safe integers`);
  if (opts.dModel % opts.heads !== 0 || (opts.dModel / opts.heads) % 2 !== 0) {
    throw new UsageError(`--d-model (${opts.dModel}) must be --heads (${opts.heads}) times an even head size (RoPE rotates pairs)`);
  }
  return opts;
}

/** Bytes in binary units: 1.5 GiB, 5.1 TiB. */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** The most elements one typed array holds in Node 20 (V8's limit). */
const MAX_ELEMENTS = 2 ** 32 - 1;

/**
 * Refuse a config whose tensors cannot exist on this machine, before anything is allocated: the
 * attention scores [B, H, T, T] (training, and evaluation at the longest length), the embedding
 * and unembedding [V, C], the logits [B, T, V]. A step holds at least four tensors of the largest
 * size (scores, softmax and their gradients), so four times it must fit in memory.
 * @example checkSizes(parseCli(['--seq-len', '100000'], …), 24 * 2 ** 30) // throws UsageError
 */
export function checkSizes(o: CliOptions, memoryBytes: number): void {
  const T = (len: number): number => (len % 2 === 0 ? len : len + 1) - 1;
  const candidates: { flag: string; what: string; shape: number[] }[] = [
    { flag: `--vocab ${o.vocab}`, what: 'the embedding', shape: [o.vocab, o.dModel] },
    { flag: `--seq-len ${o.seqLen}`, what: 'the attention scores', shape: [o.batch, o.heads, T(o.seqLen), T(o.seqLen)] },
    { flag: `--vocab ${o.vocab} with --seq-len ${o.seqLen}`, what: 'the logits', shape: [o.batch, T(o.seqLen), o.vocab] },
    { flag: `--d-model ${o.dModel}`, what: 'the projection weights', shape: [3 * o.dModel, o.dModel] },
  ];
  for (const L of o.evalLengths) {
    const B = Math.max(1, Math.floor(o.batch * ((T(o.seqLen) + 1) / (T(L) + 1)) ** 2));
    candidates.push({ flag: `--eval-lengths ${L}`, what: 'the attention scores', shape: [Math.min(B, o.evalSize), o.heads, T(L), T(L)] });
  }
  for (const c of candidates) {
    const elements = c.shape.reduce((a, b) => a * b, 1);
    const bytes = 4 * elements;
    const shape = `[${c.shape.join(', ')}]`;
    if (elements > MAX_ELEMENTS) {
      throw new UsageError(`${c.flag} is too large: ${c.what} ${shape} float32 would hold ${elements.toExponential(2)} elements (${fmtBytes(bytes)}); one tensor holds at most 2³² − 1`);
    }
    if (4 * bytes > memoryBytes) {
      throw new UsageError(`${c.flag} is too large: ${c.what} ${shape} float32 need ${fmtBytes(bytes)} each, ×4 live in a step, and this machine has ${fmtBytes(memoryBytes)}`);
    }
  }
}
