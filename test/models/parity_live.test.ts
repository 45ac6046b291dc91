// Live PyTorch parity (skips without python3-torch): Wedge initialises the model and draws the
// batches; the seed's PyTorch model loads that checkpoint, trains on the same 50 batches, and both
// loss sequences must agree. The reverse direction of the fixture test (models_parity_*).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Adam, Generator } from '@wedge/core';
import { saveSafetensors } from '@wedge/core/node';
import { TestModel, generateCopyBatch, trainStep } from '@wedge/models';
import { TORCH_MISSING, hasTorch, runPython } from '../helpers/torch.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
import torch, torch.nn.functional as F
import models_seed as seed
from models_pytorch import load_safetensors, train_steps
tensors, meta = load_safetensors(sys.argv[2])
torch.set_num_threads(1)
m = seed.TestModel(int(meta['vocab']), int(meta['d_model']), int(meta['n_head']), int(meta['max_len']), meta['attn_type'])
m.load_state_dict({k: v for k, v in tensors.items() if not k.startswith('batch.')})
n = int(meta['steps'])
batches = [(tensors[f'batch.{i}.inputs'].long(), tensors[f'batch.{i}.targets'].long()) for i in range(n)]
print(json.dumps(train_steps(m, batches, int(meta['vocab']), float(meta['lr']))))
`;

describe.each(['standard', 'triple'] as const)('live PyTorch parity, %s attention', (attnType) => {
  it('Wedge-initialised weights, 50 Wedge batches: PyTorch’s losses match at every step (|Δ| ≤ 1e-5)', (ctx) => {
    if (!hasTorch()) return ctx.skip(TORCH_MISSING);
    const cfg = { vocab: 12, dModel: 32, nHead: 2, maxLen: 24, attnType, generator: new Generator(11) };
    const model = new TestModel(cfg);
    const g = new Generator(12);
    const batches = Array.from({ length: 50 }, () => generateCopyBatch(8, 24, 12, g));
    const dir = mkdtempSync(join(tmpdir(), 'wedge-parity-'));
    try {
      const file = join(dir, 'start.safetensors');
      const tensors = { ...model.stateDict() };
      batches.forEach(([x, y], i) => Object.assign(tensors, { [`batch.${i}.inputs`]: x, [`batch.${i}.targets`]: y }));
      saveSafetensors(file, tensors, { vocab: '12', d_model: '32', n_head: '2', max_len: '24', attn_type: attnType, steps: '50', lr: '0.001' });
      const torchLosses = JSON.parse(runPython('-c', [SCRIPT, join(ROOT, 'scripts', 'fixtures'), file])) as number[];
      const opt = new Adam(model.parameters(), { lr: 1e-3 });
      const ours = batches.map(([x, y]) => trainStep(model, opt, x, y));
      expect(torchLosses).toHaveLength(50);
      const worst = Math.max(...ours.map((l, i) => Math.abs(l - torchLosses[i])));
      expect(worst).toBeLessThanOrEqual(1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
