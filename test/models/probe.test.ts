// The loud-key probe (packages/models/src/probe.ts): at m = 0 it is the model's own forward pass;
// its setup is seeded; its attention mass is what the definition says, checked by hand on the
// weights; and a loud key in a dot-product model captures attention that a Gram model refuses.
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, noGrad, zeros } from '@wedge/core';
import { TestModel, forwardWithKeyOffset, loudProbeSetup, makeEvalSet, probeLoudKeys, trainModel, DEFAULT_TRAIN_CONFIG } from '@wedge/models';

const tinyModel = (attnType: 'standard' | 'triple', seed = 0): TestModel =>
  new TestModel({ vocab: 8, dModel: 16, nHead: 2, maxLen: 16, attnType, generator: new Generator(seed) });

describe('forwardWithKeyOffset', () => {
  it.each(['standard', 'triple'] as const)('with a zero offset gives the %s model’s own logits', (attnType) => {
    const model = tinyModel(attnType);
    const [x] = makeEvalSet(4, 4, 16, 8, 1)[0];
    const ours = noGrad(() => forwardWithKeyOffset(model, x, zeros([4, 2, 15, 8])));
    const ref = noGrad(() => model.forward(x)).data();
    const got = ours.logits.data();
    for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-5);
    // attention rows sum to 1 and nothing looks ahead
    const w = ours.attn.data(); // [4, 2, 15, 15]
    for (let row = 0; row < 4 * 2 * 15; row++) {
      const t = row % 15;
      let s = 0;
      for (let j = 0; j < 15; j++) {
        s += w[row * 15 + j];
        if (j > t) expect(w[row * 15 + j]).toBe(0);
      }
      expect(s).toBeCloseTo(1, 5);
    }
  });
});

describe('loudProbeSetup', () => {
  it('draws positions in the first half and unit directions from its seed, and the mean key norm per head', () => {
    const model = tinyModel('standard');
    const [x] = makeEvalSet(8, 8, 16, 8, 1)[0];
    const a = loudProbeSetup(model, x, 5);
    expect(loudProbeSetup(model, x, 5)).toEqual(a);
    expect(loudProbeSetup(model, x, 6).positions).not.toEqual(a.positions);
    expect(a.positions).toHaveLength(8);
    for (const p of a.positions) expect(p >= 0 && p < 8).toBe(true);
    expect(a.directions).toHaveLength(2);
    for (const u of a.directions) expect(Math.hypot(...u)).toBeCloseTo(1, 12);
    expect(a.keyScale.every((s) => s > 0)).toBe(true);
  });
});

describe('probeLoudKeys', () => {
  it('measures the mass as defined: attention on p_b from copy queries other than p_b’s own, averaged', () => {
    const model = tinyModel('standard', 3);
    const set = makeEvalSet(4, 4, 16, 8, 1);
    const { rows, setup } = probeLoudKeys(model, set, { seed: 2, magnitudes: [10] });
    // recompute m = 10 by hand from the attention weights
    const [x] = set[0];
    const H = 2, T = 15, D = 8, start = 7;
    const loud = new Float32Array(4 * H * T * D);
    setup.positions.forEach((p, b) => {
      for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) loud[((b * H + h) * T + p) * D + d] = 10 * setup.keyScale[h] * setup.directions[h][d];
    });
    const { attn: w } = noGrad(() => forwardWithKeyOffset(model, x, Tensor.fromArray(loud, [4, H, T, D], 'float32')));
    const wd = w.data();
    let mass = 0;
    let n = 0;
    setup.positions.forEach((p, b) => {
      for (let h = 0; h < H; h++) {
        for (let t = start; t < T; t++) {
          if (t === p + start) continue;
          mass += wd[((b * H + h) * T + t) * T + p];
          n++;
        }
      }
    });
    expect(rows.map((r) => r.magnitude)).toEqual([0, 10]);
    expect(rows[1].attentionMass).toBeCloseTo(mass / n, 12);
  });

  it('in trained models: the loud key takes attention from dot-product queries, not from Gram queries', () => {
    const c = { ...DEFAULT_TRAIN_CONFIG, steps: 60, seqLen: 16, vocab: 8, dModel: 32, nHead: 2, lr: 5e-3, batchSize: 16, evalSize: 32, evalEvery: 60 };
    const set = makeEvalSet(32, 16, 16, 8, 2);
    const standard = probeLoudKeys(trainModel('standard', c, { evalSet: set }).model, set, { seed: 3 }).rows;
    const triple = probeLoudKeys(trainModel('triple', c, { evalSet: set }).model, set, { seed: 3 }).rows;
    expect(standard.map((r) => r.magnitude)).toEqual([0, 1, 5, 10, 50, 100]);
    // dot product: the score grows with m, so the loud key's share grows far above its unperturbed share
    expect(standard[5].attentionMass).toBeGreaterThan(3 * standard[0].attentionMass);
    // Gram: a key out of the (q, r) plane is penalised by its squared height: its share vanishes
    expect(triple[5].attentionMass).toBeLessThan(1e-6);
    for (const r of [...standard, ...triple]) expect(r.copyAccuracy).toBeGreaterThanOrEqual(0);
  });
});
