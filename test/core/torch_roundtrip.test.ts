// Live round trips with real PyTorch (/usr/bin/python3 + torch, driven through
// scripts/fixtures/nn_roundtrip.py): checkpoints written by Wedge load into torch.nn and compute
// the same logits, and back; and docs/checkpoints.md's five lines run as written.
// Skipped, with a message saying what to install, where PyTorch is missing.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Adam, Embedding, Generator, Linear, Module, crossEntropy, linspace, noGrad, randint, type Tensor,
} from '@wedge/core';
import { loadSafetensors, saveSafetensors } from '@wedge/core/node';
import { assertClose } from '../helpers/assert_close.ts';
import { TORCH_MISSING, hasTorch, runPython } from '../helpers/torch.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const SCRIPT = repo('scripts/fixtures/nn_roundtrip.py');

/** Mirrors TinyLM in scripts/fixtures/nn_roundtrip.py: embed → proj → ×scale → tanh → unembed. */
class TinyLM extends Module {
  embed: Embedding;
  proj: Linear;
  unembed: Linear;
  declare scale: Tensor;
  constructor(seed: number) {
    super();
    const generator = new Generator(seed);
    this.embed = new Embedding(16, 8, { generator });
    this.proj = new Linear(8, 8, { generator });
    this.unembed = new Linear(8, 16, { bias: false, generator });
    this.registerBuffer('scale', linspace(0.5, 1.5, 8));
  }
  forward(ids: Tensor): Tensor {
    const h = this.proj.forward(this.embed.forward(ids)).mul(this.scale).tanh(); // [B, T, 8]
    return this.unembed.forward(h); // [B, T, 16]
  }
}

/** Train a few steps so the weights are not just an initialisation. */
function trainABit(model: TinyLM): void {
  const g = new Generator(4);
  const opt = new Adam(model.parameters(), { lr: 0.05 });
  for (let i = 0; i < 3; i++) {
    const ids = randint(0, 16, [4, 6], { generator: g });
    opt.zeroGrad();
    crossEntropy(model.forward(ids).reshape([-1, 16]), ids.reshape([-1])).backward();
    opt.step();
  }
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'wedge-torch-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wedge's logits for some ids, saved for the PyTorch side to compare against. */
function saveWedgeIo(model: TinyLM, path: string): void {
  const ids = randint(0, 16, [2, 7], { generator: new Generator(9) });
  saveSafetensors(path, { ids, logits: noGrad(() => model.forward(ids)) });
}

describe('live round trips with PyTorch', () => {
  it('PyTorch → Wedge: torch.nn weights load strictly and give the same logits', (ctx) => {
    if (!hasTorch()) ctx.skip(TORCH_MISSING);
    withTempDir((dir) => {
      const { keys } = JSON.parse(runPython(SCRIPT, ['torch-to-wedge', dir])) as { keys: string[] };
      const model = new TinyLM(123);
      expect(Object.keys(model.stateDict())).toEqual(keys); // PyTorch's names, in PyTorch's order
      const { tensors } = loadSafetensors(join(dir, 'torch_model.safetensors'));
      expect(model.loadStateDict(tensors)).toEqual({ missing: [], unexpected: [] });
      const io = loadSafetensors(join(dir, 'torch_io.safetensors')).tensors;
      assertClose(model.forward(io.ids), io.logits, { rtol: 1e-5, atol: 1e-6, label: 'logits' });
    });
  });

  it('Wedge → PyTorch: a trained Wedge model loads strictly into torch.nn and gives the same logits', (ctx) => {
    if (!hasTorch()) ctx.skip(TORCH_MISSING);
    withTempDir((dir) => {
      const model = new TinyLM(5);
      trainABit(model);
      saveSafetensors(join(dir, 'wedge_model.safetensors'), model.stateDict(), { from: 'wedge' });
      saveWedgeIo(model, join(dir, 'wedge_io.safetensors'));
      const result = JSON.parse(runPython(SCRIPT, ['wedge-to-torch', dir]));
      expect(result).toMatchObject({ ok: true, same_key_order: true });
      expect(result.max_abs_diff).toBeLessThan(1e-5);
    });
  });
});

/** The text between the checkpoint-example markers of a markdown file. */
function exampleSection(file: string): string {
  const md = readFileSync(repo(file), 'utf8');
  const section = /<!-- checkpoint-example[^>]*-->([\s\S]*?)<!-- \/checkpoint-example -->/.exec(md)?.[1];
  if (!section) throw new Error(`${file}: no checkpoint-example section`);
  return section;
}

/** The lines between the checkpoint-example markers of docs/checkpoints.md, by language. */
function docExample(): { python: string[]; ts: string[] } {
  const section = exampleSection('docs/checkpoints.md');
  const block = (lang: string) =>
    (new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)?.[1] ?? '').split('\n').filter((l) => l.trim() !== '');
  return { python: block('python'), ts: block('ts') };
}

describe('docs/checkpoints.md', () => {
  it('the README shows the same five lines that this test runs', () => {
    expect(exampleSection('README.md')).toBe(exampleSection('docs/checkpoints.md'));
  });

  it('the example is five lines: three of PyTorch, two of Wedge', () => {
    const { python, ts } = docExample();
    expect([python.length, ts.length]).toEqual([3, 2]);
  });

  it('runs as written: PyTorch saves, Wedge loads, trains and saves, PyTorch loads the same weights', (ctx) => {
    if (!hasTorch()) ctx.skip(TORCH_MISSING);
    const { python, ts } = docExample();
    const [imports, saveLine, loadLine] = python;
    const [wedgeLoad, wedgeSave] = ts;
    withTempDir((dir) => {
      // Debian has no python3-safetensors: when it is missing, stand in the fixture scripts' reader/writer.
      const env: Record<string, string> = {};
      if (!runPython('-c', ['import importlib.util as u; print(u.find_spec("safetensors") is not None)']).includes('True')) {
        mkdirSync(join(dir, 'shim', 'safetensors'), { recursive: true });
        writeFileSync(join(dir, 'shim', 'safetensors', '__init__.py'), '');
        writeFileSync(join(dir, 'shim', 'safetensors', 'torch.py'), 'from nn_safetensors_io import save_file, load_file\n');
        env.PYTHONPATH = [join(dir, 'shim'), repo('scripts/fixtures')].join(':');
      }
      const code = (lines: string[]) => {
        const path = join(dir, `doc_${lines.length}_${Math.random().toString(36).slice(2)}.py`);
        writeFileSync(path, lines.join('\n') + '\n');
        return path;
      };
      runPython(SCRIPT, ['doc-save', dir, code([imports, saveLine])], { env });

      // The Wedge lines, run with the names the doc uses.
      const run = (line: string, model: TinyLM) =>
        new Function('model', 'loadSafetensors', 'saveSafetensors', line)(model, loadSafetensors, saveSafetensors);
      const model = new TinyLM(77);
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        run(wedgeLoad, model);
        const io = loadSafetensors(join(dir, 'torch_io.safetensors')).tensors;
        assertClose(model.forward(io.ids), io.logits, { rtol: 1e-5, atol: 1e-6, label: 'Wedge logits from PyTorch weights' });
        trainABit(model);
        run(wedgeSave, model);
      } finally {
        process.chdir(cwd);
      }
      saveWedgeIo(model, join(dir, 'wedge_io.safetensors'));
      const result = JSON.parse(runPython(SCRIPT, ['doc-load', dir, code([imports, loadLine])], { env }));
      expect(result.ok).toBe(true);
    });
  });
});
