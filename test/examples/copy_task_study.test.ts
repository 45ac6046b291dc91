// The copy-task CLI as a study and as a tool that keeps its outputs safe: several seeds (the same
// numbers whatever the parallelism), the loud-key probe (and its PyTorch twin), longer lengths,
// the results.json contract, a table of bad inputs, resume after kill -9, divergence, a full disk.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCpuEngine } from '@wedge/core';
import { loadSafetensors } from '@wedge/core/node';
import { PYTHON, TORCH_MISSING, hasTorch } from '../helpers/torch.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = join(ROOT, 'examples', 'copy_task.ts');
const TINY = ['--steps', '6', '--batch', '4', '--seq-len', '8', '--vocab', '6', '--d-model', '8', '--heads', '2', '--eval-every', '3', '--eval-size', '8', '--quiet'];

interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}, cmd = process.execPath, pre = ['--import', 'tsx', SCRIPT]): Promise<Ran> {
  return new Promise((done) => {
    const p = spawn(cmd, [...pre, ...args], { cwd: ROOT, env: { ...process.env, INIT_CWD: ROOT, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, stdout, stderr });
    });
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const results = (dir: string): Json => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
/** A run's numbers without its wall times: what must repeat exactly. */
const numbers = (r: Json): Json =>
  r.models.map((m: Json) => ({
    attnType: m.attnType, seed: m.seed, trainLosses: m.trainLosses, stepsTo99: m.stepsTo99, probe: m.probe, lengths: m.lengths,
    history: m.history.map((p: Json) => ({ ...p, elapsedMs: 0 })),
  }));

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wedge-study-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('copy-task --seeds, --probe-loud, --eval-lengths', () => {
  let study: Json;
  const STUDY = [...TINY, '--seeds', '2', '--probe-loud', '--eval-lengths', '12,16'];

  it('writes the results.json contract and the probe, lengths and curve plots', async () => {
    const out = join(dir, 'study');
    const r = await run([...STUDY, '--jobs', '2', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    study = results(out);
    for (const attn of ['standard', 'triple']) {
      const s = study.summary[attn];
      expect(s.finalEvalLoss.n).toBe(2);
      expect(s.finalEvalLoss.ci95[0]).toBeLessThanOrEqual(s.finalEvalLoss.mean);
      expect(s.finalEvalLoss.ci95[1]).toBeGreaterThanOrEqual(s.finalEvalLoss.mean);
      expect(Object.keys(s.stepsTo99)).toEqual(expect.arrayContaining(['mean', 'ci95', 'n']));
      expect(study.probe[attn].map((p: Json) => p.magnitude)).toEqual([1, 5, 10, 50, 100]);
      for (const p of study.probe[attn]) {
        expect(p.attentionMass).toBeGreaterThanOrEqual(0);
        expect(p.attentionMass).toBeLessThanOrEqual(1);
        expect(p.copyAccuracy).toBeGreaterThanOrEqual(0);
      }
      expect(study.lengths[attn].map((l: Json) => l.seqLen)).toEqual([8, 12, 16]);
    }
    expect(study.config).toMatchObject({ seeds: 2, maxLen: 16, probeLoud: true, evalLengths: [12, 16] });
    const wasm = getCpuEngine().name === 'wasm';
    expect(study.requestedBackend).toBe(wasm ? 'wasm' : 'cpu');
    expect(study.backend).toMatch(wasm ? /^wasm \(\d+ threads?\)$/ : /^cpu \(JS reference\)$/);
    expect(study.gpu).toBeNull();
    expect(study.versions['gpu.js']).toMatch(/^\d+\.\d+\.\d+/);
    expect(study.models.map((m: Json) => `${m.attnType}-${m.seed}`)).toEqual(['standard-0', 'standard-1', 'triple-0', 'triple-1']);
    for (const f of ['curves', 'probe', 'lengths']) {
      expect(readFileSync(join(out, `${f}.svg`), 'utf8')).toMatch(/^<svg/);
      expect([...readFileSync(join(out, `${f}.png`)).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    }
    for (const f of ['standard-seed0', 'standard-seed1', 'triple-seed0', 'triple-seed1']) {
      expect(existsSync(join(out, `${f}.safetensors`))).toBe(true);
      expect(existsSync(join(out, 'probe', `${f}.json`))).toBe(true);
    }
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(existsSync(join(out, 'checkpoints'))).toBe(false);
  });

  it('gives the same numbers in one thread as in two workers, and a seed alone as within the study', async () => {
    const [one, alone] = await Promise.all([
      run([...STUDY, '--jobs', '1', '--out', join(dir, 'study-1')]),
      run([...TINY, '--seed', '1', '--probe-loud', '--eval-lengths', '12,16', '--out', join(dir, 'seed1')]),
    ]);
    expect(one.status).toBe(0);
    expect(alone.status).toBe(0);
    expect(numbers(results(join(dir, 'study-1')))).toEqual(numbers(study));
    const seed1 = numbers(study).filter((m: Json) => m.seed === 1);
    expect(numbers(results(join(dir, 'seed1')))).toEqual(seed1);
  });

  it('PyTorch (the seed’s model, scripts/probe_loud.py) gets the probe’s numbers from the saved checkpoint within 1e-4', async (ctx) => {
    if (!hasTorch()) return ctx.skip(TORCH_MISSING);
    for (const id of ['standard-seed0', 'triple-seed1']) {
      const out = join(dir, 'study');
      const r = await run([join(ROOT, 'scripts', 'probe_loud.py'), join(out, `${id}.safetensors`), join(out, 'probe', `${id}.json`)], { OMP_NUM_THREADS: '1' }, PYTHON, []);
      expect(r.stderr).toBe('');
      const torch = JSON.parse(r.stdout) as { rows: { magnitude: number; attentionMass: number; copyAccuracy: number }[]; maxAbsDiffFromWedge: number };
      const ours = study.models.find((m: Json) => `${m.attnType}-seed${m.seed}` === id).probe;
      expect(torch.rows.map((x) => x.magnitude)).toEqual([0, 1, 5, 10, 50, 100]);
      torch.rows.forEach((x, i) => {
        expect(Math.abs(x.attentionMass - ours[i].attentionMass)).toBeLessThan(1e-4);
        expect(Math.abs(x.copyAccuracy - ours[i].copyAccuracy)).toBeLessThan(1e-4);
      });
    }
  });
});

describe('copy-task --hub-tokens', () => {
  it('trains from embeddings whose first K rows start S times larger, and says so in results.json and the checkpoint', async () => {
    const [hub, plain] = await Promise.all([
      run([...TINY, '--attn', 'standard', '--hub-tokens', '2', '--hub-scale', '10', '--out', join(dir, 'hub')]),
      run([...TINY, '--attn', 'standard', '--out', join(dir, 'plain')]),
    ]);
    expect(hub.status).toBe(0);
    expect(plain.status).toBe(0);
    expect(results(join(dir, 'hub')).config).toMatchObject({ hubTokens: 2, hubScale: 10 });
    const h = loadSafetensors(join(dir, 'hub', 'standard.safetensors'));
    const p = loadSafetensors(join(dir, 'plain', 'standard.safetensors'));
    expect(h.metadata).toMatchObject({ hub_tokens: '2', hub_scale: '10' });
    const hw = h.tensors['embed.weight'].data();
    const pw = p.tensors['embed.weight'].data();
    // 6 Adam steps at lr 1e-3 move a weight by at most 6e-3
    for (let i = 0; i < pw.length; i++) expect(Math.abs(hw[i] - (i < 2 * 8 ? 10 : 1) * pw[i])).toBeLessThan(0.07);
  });
});

describe('copy-task bad input: one line on stderr, exit status 2, nothing written', () => {
  const file = (): string => join(dir, 'a-file');
  const full = (): string => join(dir, 'full');
  beforeAll(() => {
    writeFileSync(file(), 'x');
    mkdirSync(full(), { recursive: true });
    writeFileSync(join(full(), 'results.json'), '{}');
  });
  const cases: [string, () => string[], RegExp][] = [
    ['--out is empty', () => ['--out', ''], /^--out must name a folder, got ''$/],
    ['--out is a file', () => ['--out', file()], /is a file; give a folder$/],
    ['--out lies under a file', () => ['--out', join(file(), 'run')], /a-file is a file, not a folder$/],
    ['--out under /proc (mkdir -p would hang)', () => ['--out', '/proc/x/run'], /^--out \/proc\/x\/run: cannot create \/proc\/x: .*\(ENOENT\)$/],
    ['--out where nothing may be written', () => ['--out', '/sys/wedge-test-run'], /^--out \/sys\/wedge-test-run: cannot write .*\((EPERM|EACCES|EROFS)\)$/],
    ['--out holds an earlier run', () => ['--out', full()], /already holds files \(results\.json\); give a new folder: runs are never mixed$/],
    ['--seq-len 100000', () => ['--seq-len', '100000'], /^--seq-len 100000 is too large: the attention scores \[32, 4, 99999, 99999\] float32 would hold 1\.28e\+12 elements \(4\.7 TiB\)/],
    ['--vocab 9007199254740991', () => ['--vocab', '9007199254740991'], /^--vocab 9007199254740991 is too large: the embedding \[9007199254740991, 64\] float32 would hold 5\.76e\+17 elements \(2\.0 EiB\)/],
    ['--eval-lengths too long', () => ['--eval-lengths', '200000'], /^--eval-lengths 200000 is too large: the attention scores \[1, 4, 199999, 199999\]/],
    ['--seeds 0', () => ['--seeds', '0'], /^--seeds must be an integer ≥ 1, got '0'$/],
    ['--jobs 0', () => ['--jobs', '0'], /^--jobs must be an integer ≥ 1, got '0'$/],
    ['--eval-lengths 1', () => ['--eval-lengths', '128,1'], /^--eval-lengths must be an integer ≥ 2, got '1'$/],
    ['--eval-lengths x', () => ['--eval-lengths', 'x'], /^--eval-lengths must be an integer ≥ 2, got 'x'$/],
    ['--hub-tokens > vocab', () => ['--hub-tokens', '17'], /^--hub-tokens \(17\) must be at most --vocab \(16\)$/],
    ['--hub-scale 0', () => ['--hub-tokens', '2', '--hub-scale', '0'], /^--hub-scale must be a positive number, got '0'$/],
    ['--hub-scale alone', () => ['--hub-scale', '5'], /^--hub-scale needs --hub-tokens K$/],
    ['--checkpoint-every x', () => ['--checkpoint-every', 'x'], /^--checkpoint-every must be an integer ≥ 0, got 'x'$/],
    ['--resume with training flags', () => ['--resume', full(), '--steps', '3'], /^--resume continues the interrupted run with its own flags; drop --steps/],
    ['--resume a finished run', () => ['--resume', full()], /that run is already complete$/],
    ['--resume nothing', () => ['--resume', join(dir, 'nothing')], /no unfinished run there/],
    ['--resume ""', () => ['--resume', ''], /^--resume must name a folder, got ''$/],
  ];
  it.concurrent.each(cases)('%s', async (_name, args, message) => {
    const r = await run(['--quiet', ...args()]); // the defaults otherwise: each case must stop before training
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0].replace(/^copy-task: /, '')).toMatch(message);
    expect(r.stderr).toMatch(/^copy-task: /);
  });
  it('leaves nothing behind after a refused --out', () => {
    expect(existsSync(`${file()}.partial`)).toBe(false);
    expect(existsSync('/sys/wedge-test-run.partial')).toBe(false);
    expect(readFileSync(join(full(), 'results.json'), 'utf8')).toBe('{}');
  });
});

describe('copy-task keeps its outputs safe', () => {
  it('resumes a run killed (SIGKILL) after a checkpoint and ends with the uninterrupted run’s numbers, bit for bit', async () => {
    const args = [...TINY, '--checkpoint-every', '2', '--probe-loud', '--jobs', '1'];
    const [whole, killed] = await Promise.all([
      run([...args, '--out', join(dir, 'whole')]),
      run([...args, '--out', join(dir, 'killed')], { WEDGE_COPY_TASK_KILL_AT: 'triple:4' }),
    ]);
    expect(whole.status).toBe(0);
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(dir, 'killed'))).toBe(false); // no half-written run
    expect(existsSync(join(dir, 'killed.partial', 'checkpoints', 'triple-seed0.safetensors'))).toBe(true);
    const resumed = await run(['--resume', join(dir, 'killed'), '--quiet']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const r = results(join(dir, 'killed'));
    expect(r.resumed).toBe(true);
    expect(r.models.map((m: Json) => m.resumed)).toEqual([false, true]); // standard had finished before the kill
    expect(numbers(r)).toEqual(numbers(results(join(dir, 'whole'))));
    expect(existsSync(join(dir, 'killed.partial'))).toBe(false);
  });

  it('stops a diverging model with its name and step, exits 1, and keeps the other model’s results', async () => {
    const out = join(dir, 'diverged');
    const r = await run([...TINY, '--lr', '1e6', '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^copy-task: triple model diverged at step \d+: training loss NaN; the other results are in /);
    const json = results(out);
    expect(json.failed).toEqual([expect.objectContaining({ attnType: 'triple', seed: 0, diverged: true })]);
    expect(json.models.map((m: Json) => m.attnType)).toEqual(['standard']);
    expect(json.models[0].final.step).toBe(6);
    expect(existsSync(join(out, 'standard.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'triple.safetensors'))).toBe(false);
  });

  it('on a full disk says so in one line, publishes nothing half-written, and --resume finishes the run', async () => {
    const out = join(dir, 'disk');
    const r = await run([...TINY, '--out', out], { WEDGE_COPY_TASK_FAIL_WRITE: 'results.json' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^copy-task: writing the results failed: no space left on device \(ENOSPC\)\. The trained models are kept in .*disk\.partial: make room, then --resume /);
    expect(existsSync(out)).toBe(false);
    const again = await run(['--resume', out, '--quiet']);
    expect(again.status).toBe(0);
    expect(results(out).models).toHaveLength(2);
  });

  it('on a file system that really fills up (a 200 KiB tmpfs) fails in one line and resumes once there is room', async (ctx) => {
    const mnt = join(dir, 'tiny-fs');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', mnt]).status !== 0) return ctx.skip('cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)');
    try {
      writeFileSync(join(mnt, 'filler'), new Uint8Array(150 * 1024)); // ~50 KiB left: the models fit, the plots do not
      const out = join(mnt, 'run');
      const r = await run([...TINY, '--out', out]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('no space left on device (ENOSPC)');
      expect(existsSync(out)).toBe(false);
      rmSync(join(mnt, 'filler'));
      const again = await run(['--resume', out, '--quiet']);
      expect(again.status).toBe(0);
      expect(results(out).models).toHaveLength(2);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('refuses to start over an unfinished run', async () => {
    const out = join(dir, 'unfinished');
    mkdirSync(`${out}.partial`, { recursive: true });
    const r = await run([...TINY, '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`copy-task: an unfinished run is in ${out}.partial: continue it with --resume ${out}, or delete that folder`);
  });
});
