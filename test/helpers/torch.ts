// PyTorch for live round-trip tests: detects Debian's /usr/bin/python3 with torch, and runs a
// script with it (or the seed's TestModel on a checkpoint). Tests that need it skip, naming what to install, when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const FIXTURE_SCRIPTS = fileURLToPath(new URL('../../scripts/fixtures', import.meta.url));
export const TORCH_MISSING = `PyTorch not found for ${PYTHON}: apt-get install python3-torch`;

let cached: boolean | undefined;

/** Whether `/usr/bin/python3 -c 'import torch'` works (checked once per process). */
export function hasTorch(): boolean {
  if (cached === undefined) {
    cached = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  }
  return cached;
}

/**
 * Run `/usr/bin/python3 script ...args` and return its stdout; a non-zero exit throws with stderr.
 * @example runPython('scripts/fixtures/nn_roundtrip.py', ['wedge-to-torch', dir])
 */
export function runPython(script: string, args: string[] = [], opts: { env?: Record<string, string>; cwd?: string } = {}): string {
  const r = spawnSync(PYTHON, [script, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    cwd: opts.cwd,
    env: { ...process.env, OMP_NUM_THREADS: '1', ...opts.env },
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${PYTHON} ${script} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/**
 * The logits (flattened) the seed's PyTorch TestModel gives for `ids` after a strict load of the checkpoint `file`,
 * with the run's stderr (empty when torch loaded every tensor without a warning).
 * @example const { logits, stderr } = torchTestModelLogits('run/standard.safetensors', inputs.toArray() as number[][])
 */
export function torchTestModelLogits(file: string, ids: unknown): { logits: number[]; stderr: string } {
  const script = [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(FIXTURE_SCRIPTS)})`,
    'import torch, models_seed as seed',
    'from models_pytorch import load_safetensors',
    'tensors, meta = load_safetensors(sys.argv[1])',
    "m = seed.TestModel(int(meta['vocab']), int(meta['d_model']), int(meta['n_head']), int(meta['max_len']), meta['attn_type'])",
    'm.load_state_dict(tensors, strict=True)',
    'ids = torch.tensor(json.loads(sys.argv[2]), dtype=torch.long)',
    'print(json.dumps(m(ids).detach().reshape(-1).tolist()))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, file, JSON.stringify(ids)], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  return { logits: r.stdout ? (JSON.parse(r.stdout) as number[]) : [], stderr: r.stderr };
}
