// The copy-task example end to end: flags and their errors, a tiny run's outputs (results.json,
// plots, checkpoints), --init, checkpoints the seed's PyTorch model loads, and CPU/GPU agreement.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, getCpuEngine, noGrad, wasmInfo } from '@wedge/core';
import { loadSafetensors } from '@wedge/core/node';
import { TestModel, generateCopyBatch } from '@wedge/models';
import { parseCli } from '../../examples/copy_task/args.ts';
import { engineLabel } from '../../examples/copy_task/job.ts';
import { schedule } from '../../examples/copy_task/pool.ts';
import { TORCH_MISSING, hasTorch, torchTestModelLogits } from '../helpers/torch.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = join(ROOT, 'examples', 'copy_task.ts');
const TINY = ['--steps', '6', '--batch', '4', '--seq-len', '8', '--vocab', '6', '--d-model', '8', '--heads', '2', '--eval-every', '3', '--eval-size', '8'];

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, INIT_CWD: ROOT, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Results {
  config: { steps: number; seqLen: number; maxLen: number; attnTypes: string[] };
  seed: number;
  requestedBackend: string;
  backend: string;
  workers: number;
  commit: string;
  versions: Record<string, string>;
  machine: { cpu: string; cores: number };
  lossFloor: number;
  checkpoints: string[];
  models: { attnType: string; backend: string; history: { step: number; evalLoss: number; copyAccuracy: number; trainLoss: number | null }[]; trainLosses: number[]; stepsTo99: number | null }[];
  resilience: { magnitude: number | string; dot: number; gram: number }[];
}

const readResults = (dir: string): Results => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;

describe('copy-task flags', () => {
  const parse = (argv: string[]) => parseCli(argv, '/home/u', (cwd, p) => (p.startsWith('/') ? p : `${cwd}/${p}`));

  it('has the issue’s defaults', () => {
    const o = parse([]);
    expect(o).toMatchObject({ attn: ['standard', 'triple'], batch: 32, seqLen: 64, vocab: 16, dModel: 64, heads: 4, lr: 1e-3, seed: 0, out: null, init: [], quiet: false });
    expect(o.steps).toBeGreaterThanOrEqual(200);
  });

  it('defaults --backend to the default CPU engine (wasm, or cpu under WEDGE_BACKEND=cpu), and takes wasm, cpu and gpu', () => {
    expect(parse([]).backend).toBe(getCpuEngine().name === 'wasm' ? 'wasm' : 'cpu');
    for (const b of ['wasm', 'cpu', 'gpu'] as const) expect(parse(['--backend', b]).backend).toBe(b);
  });

  it('reads every flag, and resolves paths against the caller’s folder', () => {
    const o = parse(['--attn', 'triple', '--steps', '9', '--batch', '3', '--seq-len', '11', '--vocab', '5', '--d-model', '12', '--heads', '3',
      '--lr', '2e-3', '--seed', '7', '--eval-every', '2', '--eval-size', '5', '--backend', 'gpu', '--out', 'x/y', '--init', 'a.safetensors', '--quiet']);
    expect(o).toMatchObject({ attn: ['triple'], steps: 9, batch: 3, seqLen: 11, vocab: 5, dModel: 12, heads: 3, lr: 2e-3, seed: 7, evalEvery: 2, evalSize: 5,
      backend: 'gpu', out: '/home/u/x/y', init: ['/home/u/a.safetensors'], quiet: true });
  });

  it('accepts the `--` that pnpm passes through (`copy-task -- --steps 3`)', () => {
    expect(parse(['--', '--steps', '3', '--attn', 'standard'])).toMatchObject({ steps: 3, attn: ['standard'] });
  });

  it.each([
    [['--steps', '0'], "--steps must be an integer ≥ 1, got '0'"],
    [['--steps', '1.5'], "--steps must be an integer ≥ 1, got '1.5'"],
    [['--batch', 'many'], "--batch must be an integer ≥ 1, got 'many'"],
    [['--lr', '0'], "--lr must be a positive number, got '0'"],
    [['--lr', '-1'], "--lr needs a value; write --lr=VALUE for one that starts with '-'"],
    [['--attn', 'cosine'], "--attn must be standard, triple or both, got 'cosine'"],
    [['--backend', 'tpu'], "--backend must be wasm, cpu or gpu, got 'tpu'"],
    [['--heads', '3'], '--d-model (64) must be --heads (3) times an even head size (RoPE rotates pairs)'],
    [['--seq-len', '1'], "--seq-len must be an integer ≥ 2, got '1'"],
    [['--colour'], "Unknown option '--colour' (see --help)"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parse(argv as string[])).toThrow(message as string);
  });
});

describe('copy-task CLI', () => {
  let dir = '';
  let first: Results;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wedge-copy-task-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names each engine: the wasm threads, the JS reference, the GPU', () => {
    expect(engineLabel('wasm', 2)).toBe('wasm (2 threads)');
    expect(engineLabel('wasm', 1)).toBe('wasm (1 thread)');
    expect(engineLabel('cpu', 2)).toBe('cpu (JS reference)');
    expect(engineLabel('gpu', 1)).toBe('gpu');
  });

  it('shares the cores without oversubscribing: wasm trains one model at a time on every core; --jobs N splits them', () => {
    expect(schedule('wasm', null, 2, 2, undefined)).toEqual({ workers: 0, threads: 2 });
    expect(schedule('wasm', 2, 2, 2, undefined)).toEqual({ workers: 2, threads: 1 });
    expect(schedule('wasm', 2, 8, 16, undefined)).toEqual({ workers: 2, threads: 8 });
    expect(schedule('wasm', 4, 2, 8, undefined)).toEqual({ workers: 2, threads: 4 }); // never more workers than jobs
    expect(schedule('wasm', 3, 4, 2, undefined)).toEqual({ workers: 3, threads: 1 });
    expect(schedule('wasm', null, 2, 2, '1')).toEqual({ workers: 0, threads: 1 }); // WEDGE_NUM_THREADS wins
    expect(schedule('cpu', null, 4, 2, undefined)).toEqual({ workers: 2, threads: 1 }); // the JS reference: a worker per core
    expect(schedule('gpu', 4, 4, 2, undefined)).toEqual({ workers: 0, threads: 1 }); // the GL context lives in the main thread
  });

  it('prints its help and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: pnpm --filter examples copy-task');
    for (const flag of ['--attn', '--steps', '--batch', '--seq-len', '--vocab', '--d-model', '--heads', '--lr', '--seed', '--eval-every', '--backend', '--out', '--init', '--quiet']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('answers a bad value with one line and exit status 2, not a stack trace', () => {
    for (const args of [['--steps', 'x'], ['--nope'], ['--init', join(dir, 'missing.safetensors')]]) {
      const r = run(args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^copy-task: /);
      expect(r.stderr).not.toContain('    at ');
    }
  });

  it('trains both models and writes results.json, the plots and both checkpoints', () => {
    const out = join(dir, 'run1');
    const r = run([...TINY, '--out', out]);
    expect(r.stderr).toContain('standard step 6/6'); // not a TTY: one line per evaluation
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('first step ≥ 99% copy');
    expect(r.stdout).toContain('=== Resilience Analysis: Gram Det vs Dot Product ===');
    expect(r.stdout).toContain('5.0        | 0.1000       | -25.0000        | Loud Mismatch');
    expect(r.stdout).toContain('results.json');
    first = readResults(out);
    expect(first.config).toMatchObject({ steps: 6, seqLen: 8, maxLen: 8, attnTypes: ['standard', 'triple'] });
    expect(first.seed).toBe(0);
    // the engine that ran, in words, as every model records it too
    const engine = getCpuEngine().name === 'wasm' ? /^wasm \(\d+ threads?\)$/ : /^cpu \(JS reference\)$/;
    expect(first.requestedBackend).toBe(getCpuEngine().name === 'wasm' ? 'wasm' : 'cpu');
    expect(first.backend).toMatch(engine);
    expect(first.models.map((m) => m.backend)).toEqual([first.backend, first.backend]);
    expect(r.stdout).toContain(`backend ${first.backend}`);
    expect(r.stdout).toMatch(new RegExp(`backend\\s+${first.backend.replace(/[()]/g, '\\$&')}\\s+${first.backend.replace(/[()]/g, '\\$&')}`));
    expect(first.commit).toMatch(/^([0-9a-f]{12}(-dirty)?|unknown)$/);
    expect(Object.keys(first.versions)).toEqual(['@wedge/core', '@wedge/models', 'node', 'gpu.js']);
    expect(first.machine.cores).toBeGreaterThan(0);
    expect(first.resilience).toHaveLength(6);
    for (const m of first.models) {
      expect(m.history.map((p) => p.step)).toEqual([0, 3, 6]);
      expect(m.trainLosses).toHaveLength(6);
    }
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg[^>]*>/);
    expect([...readFileSync(join(out, 'curves.png')).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    for (const attnType of ['standard', 'triple'] as const) {
      const { tensors, metadata } = loadSafetensors(join(out, `${attnType}.safetensors`));
      expect(metadata).toMatchObject({ attn_type: attnType, vocab: '6', d_model: '8', n_head: '2', max_len: '8' });
      const model = new TestModel({ vocab: 6, dModel: 8, nHead: 2, maxLen: 8, attnType });
      model.loadStateDict(tensors); // strict: exactly the model's keys and shapes
    }
  });

  it('is quiet with --quiet: only the output folder on stdout, nothing on stderr', () => {
    const out = join(dir, 'quiet');
    const r = run([...TINY, '--attn', 'standard', '--steps', '1', '--out', out, '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(out);
  });

  it('--init continues from a checkpoint: step 0 scores what the saved model scored', () => {
    const out = join(dir, 'resumed');
    const r = run([...TINY, '--attn', 'standard', '--steps', '1', '--out', out, '--quiet', '--init', join(dir, 'run1', 'standard.safetensors')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const resumed = readResults(out).models[0];
    const before = first.models[0];
    expect(resumed.history[0].evalLoss).toBeCloseTo(before.history[before.history.length - 1].evalLoss, 6);
    const clash = run([...TINY, '--attn', 'triple', '--init', join(dir, 'run1', 'standard.safetensors')]);
    expect(clash.status).toBe(2);
    expect(clash.stderr.trim()).toMatch(/holds a standard model, but --attn is triple$/);
    const wrongSize = run([...TINY, '--d-model', '16', '--attn', 'standard', '--init', join(dir, 'run1', 'standard.safetensors')]);
    expect(wrongSize.status).toBe(2);
    expect(wrongSize.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrongSize.stderr).toContain("size mismatch for 'embed.weight': checkpoint [6, 8], model [6, 16]");
  });

  it('writes checkpoints the seed’s PyTorch model loads, with the same logits', (ctx) => {
    if (!hasTorch()) return ctx.skip(TORCH_MISSING);
    for (const attnType of ['standard', 'triple'] as const) {
      const file = join(dir, 'run1', `${attnType}.safetensors`);
      const model = new TestModel({ vocab: 6, dModel: 8, nHead: 2, maxLen: 8, attnType });
      model.loadStateDict(loadSafetensors(file).tensors);
      const [inputs] = generateCopyBatch(2, 8, 6, new Generator(3));
      const expected = noGrad(() => model.forward(inputs)); // [2, 7, 6]
      const { logits: torchLogits, stderr } = torchTestModelLogits(file, inputs.toArray());
      expect(stderr).toBe('');
      const ours = Array.from(expected.data());
      expect(torchLogits).toHaveLength(ours.length);
      torchLogits.forEach((v, i) => expect(Math.abs(v - ours[i])).toBeLessThan(1e-5));
    }
  });

  it('records the engine asked for: --backend cpu is the JS reference, --backend wasm --jobs 2 splits the cores', (ctx) => {
    const cpu = run([...TINY, '--attn', 'standard', '--backend', 'cpu', '--quiet', '--out', join(dir, 'engine-cpu')]);
    expect(cpu.status).toBe(0);
    const c = readResults(join(dir, 'engine-cpu'));
    expect([c.requestedBackend, c.backend, c.models[0].backend]).toEqual(['cpu', 'cpu (JS reference)', 'cpu (JS reference)']);
    if (!wasmInfo().available) return ctx.skip('no WebAssembly SIMD here');
    const wasm = run([...TINY, '--backend', 'wasm', '--jobs', '2', '--out', join(dir, 'engine-wasm')], { WEDGE_NUM_THREADS: '' });
    expect(wasm.status).toBe(0);
    const w = readResults(join(dir, 'engine-wasm'));
    const n = Math.max(1, Math.floor(availableParallelism() / 2));
    expect([w.requestedBackend, w.backend, w.workers]).toEqual(['wasm', `wasm (${n} thread${n === 1 ? '' : 's'})`, 2]);
    expect(wasm.stdout).toContain(`backend ${w.backend} each · 2 models at once in worker threads`);
    // the same numbers as the JS reference from the same seed
    w.models[0].history.forEach((p, k) => expect(Math.abs(p.evalLoss - c.models[0].history[k].evalLoss)).toBeLessThan(1e-4));
  });

  it('gets the CPU run’s copy accuracy on the GPU backend, from the same seed', (ctx) => {
    if (!existsSync(join(ROOT, 'packages', 'gpu', 'src', 'index.ts'))) return ctx.skip('@wedge/gpu is not in this checkout');
    // big enough that the GPU backend keeps the work (it hands tensors under 4096 elements to the CPU)
    const config = ['--steps', '4', '--batch', '16', '--seq-len', '32', '--vocab', '8', '--d-model', '32', '--heads', '2', '--eval-every', '2', '--eval-size', '16', '--quiet'];
    const r = run([...config, '--backend', 'gpu', '--out', join(dir, 'gpu')]);
    expect(r.status).toBe(0);
    const gpu = readResults(join(dir, 'gpu'));
    // the run names the engine that ran: 'gpu (headlessgl)' on the GPU, 'cpu …' / 'wasm …' after a fallback
    if (!gpu.backend.startsWith('gpu')) {
      // CI sets WEDGE_REQUIRE_GL=1: there a missing GL is a failure, not a skip (as in test/gpu)
      expect(process.env.WEDGE_REQUIRE_GL, `WEDGE_REQUIRE_GL=1 but the run fell back to the CPU: ${r.stderr.trim()}`).not.toBe('1');
      return ctx.skip(`no GL context (${r.stderr.trim()}); run scripts/setup-gpu.sh, then the tests under xvfb-run -a`);
    }
    expect(run([...config, '--out', join(dir, 'cpu')]).status).toBe(0);
    const cpu = readResults(join(dir, 'cpu'));
    gpu.models.forEach((m, i) => {
      expect(m.history.map((p) => p.copyAccuracy)).toEqual(cpu.models[i].history.map((p) => p.copyAccuracy));
      m.history.forEach((p, k) => expect(Math.abs(p.evalLoss - cpu.models[i].history[k].evalLoss)).toBeLessThan(1e-4));
    });
  });
});
