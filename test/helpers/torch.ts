// PyTorch for live round-trip tests: detects Debian's /usr/bin/python3 with torch, and runs a
// script with it. Tests that need it skip, naming what to install, when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';
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
