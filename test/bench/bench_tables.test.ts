// The benchmark tables must not rot: `bench/run.ts --smoke` (tiny shapes, one step) runs every peer
// (less the 1-thread twins of the 2-thread runs) in its own process and writes its tables. No timing is asserted; what is checked is that each peer
// ran or says why not, that the numbers are numbers, and that the same model in Wedge, jax-js and
// tfjs (same weights, same batches, same Adam) reaches the same losses.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackends } from '@wedge/core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where Wedge has a wasm backend (core registers it when WebAssembly SIMD is there), its columns must run. */
const hasWasm = listBackends().includes('wasm') || existsSync(join(ROOT, 'packages/wasm/src/index.ts'));

interface Report {
  name: string;
  detail: string;
  gflops?: Record<string, number>;
  steps?: Record<string, { median: number; firstLoss: number; lastLoss: number }>;
  peakRssMiB: number;
}
type Outcome = Report | { skip: string };
interface Run {
  mode: string;
  machine: { cpu: string; cores: number };
  commit: string;
  matmul: Record<string, Outcome>;
  trainStep: { results: Record<string, Outcome> };
  scaling: { results: Record<string, Outcome> };
}

let dir = '';
let run: Run;
let markdown = '';
let stdout = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wedge-bench-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/run.ts'), 'all', '--smoke', '--json', join(dir, 'run.json'), '--md', join(dir, 'run.md')], {
    cwd: ROOT, encoding: 'utf8', timeout: 170_000,
  });
  stdout = r.stdout;
  if (r.status !== 0) throw new Error(`bench/run.ts --smoke exited ${r.status}:\n${r.stderr}`);
  run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Run;
  markdown = readFileSync(join(dir, 'run.md'), 'utf8');
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Where a peer may be absent, the only acceptable reasons; a crash ("failed") is never acceptable. */
function expectRanOrExplained(id: string, o: Outcome): asserts o is Report {
  if ('skip' in o) {
    if (id.startsWith('wedge-wasm')) expect(hasWasm, `${id} skipped (${o.skip}) although packages/wasm exists`).toBe(false);
    else if (id.startsWith('torch')) expect(o.skip).toMatch(/not installed|no OpenBLAS/);
    else throw new Error(`${id} did not run: ${o.skip}`);
  }
}
const reports = (results: Record<string, Outcome>): [string, Report][] =>
  Object.entries(results).filter((e): e is [string, Report] => !('skip' in e[1]));

describe('bench/run.ts --smoke', () => {
  it('prints the machine, the commit and all three tables, to stdout and to --md', () => {
    for (const text of [stdout, markdown]) {
      expect(text).toMatch(/machine: .+, \d+ cores, load average/);
      expect(text).toMatch(/commit [0-9a-f]{7,}/);
      expect(text).toContain('### Matmul, float32 GFLOP/s');
      expect(text).toContain('### One training step');
      expect(text).toContain('### Scaling');
      expect(text).toContain('Targets (issue 12)');
    }
    expect(run.mode).toBe('smoke');
  });

  it('times every matmul case on every peer that is installed, with positive GFLOP/s', () => {
    expect(Object.keys(run.matmul)).toEqual(['wedge-wasm-2', 'wedge-js', 'torch-2.13-2', 'torch-1.13-2', 'jaxjs-2', 'jaxjs-1', 'tfjs']);
    for (const [id, o] of Object.entries(run.matmul)) {
      expectRanOrExplained(id, o);
      if ('skip' in o) continue;
      expect(Object.keys(o.gflops ?? {}).sort(), id).toEqual(['32-aTb', '32-ab', '32-abT', 'bmm-ab']);
      for (const v of Object.values(o.gflops!)) expect(v, id).toBeGreaterThan(0);
      expect(o.peakRssMiB, id).toBeGreaterThan(10);
    }
  });

  it('runs the training step on every peer; Wedge, jax-js and tfjs agree on the losses', () => {
    const results = run.trainStep.results;
    for (const [id, o] of Object.entries(results)) expectRanOrExplained(id, o);
    const same = reports(results).filter(([id]) => !id.startsWith('torch'));
    expect(same.map(([id]) => id)).toEqual(expect.arrayContaining(['wedge-js', 'jaxjs-2', 'jaxjs-1', 'tfjs']));
    const ref = (results['wedge-js'] as Report).steps!;
    for (const [id, r] of same) {
      for (const [key, t] of Object.entries(r.steps!)) {
        expect(t.median, `${id} ${key}`).toBeGreaterThan(0);
        expect(Math.abs(t.firstLoss - ref[key].firstLoss), `${id} ${key} first loss`).toBeLessThan(1e-4);
        expect(Math.abs(t.lastLoss - ref[key].lastLoss), `${id} ${key} last loss`).toBeLessThan(1e-4);
        expect(t.lastLoss, `${id} ${key}: Adam moved the loss`).not.toBe(t.firstLoss);
      }
    }
    // PyTorch draws its own init: its losses only need to be those of an untrained 16-way classifier
    for (const [id, r] of reports(results).filter(([i]) => i.startsWith('torch'))) {
      for (const t of Object.values(r.steps!)) expect(Math.abs(t.firstLoss - Math.log(16)), id).toBeLessThan(0.2);
    }
  });

  it('runs each scaling cell in its own process, with its own peak RSS', () => {
    const results = run.scaling.results;
    const keys = Object.keys(results);
    expect(keys.length).toBe(6); // 1 smoke config × 2 attentions × (Wedge, PyTorch 2.13, PyTorch 1.13)
    for (const [key, o] of Object.entries(results)) {
      expectRanOrExplained(key.split('|')[0], o);
      if (!('skip' in o)) expect(Object.keys(o.steps!), key).toEqual([key.split('|')[1]]);
    }
  });
});
