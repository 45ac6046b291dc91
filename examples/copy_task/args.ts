// Command-line flags of the copy-task example: parsing, validation (one-line errors), --help.
import { parseArgs } from 'node:util';
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
  backend: 'cpu' | 'gpu';
  /** Output directory (absolute), or null for runs/<date-time>/. */
  out: string | null;
  /** Checkpoints to start from (absolute paths), at most one per attention type. */
  init: string[];
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
  --backend cpu|gpu             compute backend (default: cpu; gpu needs @wedge/gpu and GL)
  --out DIR                     output directory (default: runs/<date-time>/)
  --init FILE.safetensors       start from these weights (a checkpoint of this example or of the
                                seed's PyTorch model); give it once per attention type
  --quiet                       no progress bars, no per-eval lines
  -h, --help                    show this help

Writes results.json, loss/accuracy plots (SVG and PNG) and one safetensors checkpoint per model.`;

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
  const backend = v.backend ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'gpu') throw new UsageError(`--backend must be cpu or gpu, got '${backend}'`);
  let lr = D.lr;
  if (v.lr !== undefined) {
    lr = Number(v.lr);
    if (v.lr.trim() === '' || !Number.isFinite(lr) || lr <= 0) throw new UsageError(`--lr must be a positive number, got '${v.lr}'`);
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
    quiet: v.quiet ?? false,
    help: v.help ?? false,
  };
  if (opts.dModel % opts.heads !== 0 || (opts.dModel / opts.heads) % 2 !== 0) {
    throw new UsageError(`--d-model (${opts.dModel}) must be --heads (${opts.heads}) times an even head size (RoPE rotates pairs)`);
  }
  return opts;
}
