// nn layers against PyTorch 1.13: forward values, gradients and initialisation statistics
// (fixtures made by scripts/fixtures/nn_layers.py).
import { describe, expect, it } from 'vitest';
import { Embedding, Generator, Linear, crossEntropy, type Tensor } from '@wedge/core';
import { loadSafetensors } from '@wedge/core/node';
import { fileURLToPath } from 'node:url';
import { assertClose } from '../helpers/assert_close.ts';

const { tensors: t } = loadSafetensors(fileURLToPath(new URL('../fixtures/nn_layers.safetensors', import.meta.url)));
const TOL = { rtol: 1e-5, atol: 1e-6 };

describe('Linear matches torch.nn.Linear', () => {
  for (const [name, bias] of [['linear', true], ['linear_nobias', false]] as const) {
    it(`${name}: forward and the gradients of x, weight${bias ? ' and bias' : ''}`, () => {
      const [out, inp] = t[`${name}.weight`].shape;
      const layer = new Linear(inp, out, { bias });
      layer.loadStateDict(bias ? { weight: t[`${name}.weight`], bias: t[`${name}.bias`] } : { weight: t[`${name}.weight`] });
      const x = t[`${name}.x`].clone().requiresGrad_();
      const y = layer.forward(x);
      assertClose(y, t[`${name}.out`], { ...TOL, label: `${name} forward` });
      y.backward(t[`${name}.gout`]);
      assertClose(x.grad!, t[`${name}.grad.x`], { ...TOL, label: `${name} grad x` });
      assertClose(layer.weight.grad!, t[`${name}.grad.weight`], { ...TOL, label: `${name} grad weight` });
      if (bias) assertClose(layer.bias!.grad!, t[`${name}.grad.bias`], { ...TOL, label: `${name} grad bias` });
    });
  }
});

describe('Embedding matches torch.nn.Embedding', () => {
  it('looks up rows for [2, 5] ids and sums the gradient of repeated ids', () => {
    const emb = new Embedding(7, 4);
    emb.loadStateDict({ weight: t['embedding.weight'] });
    const y = emb.forward(t['embedding.ids']); // I64 in the file, int32 here
    expect(y.shape).toEqual([2, 5, 4]);
    assertClose(y, t['embedding.out'], { rtol: 0, atol: 0, label: 'embedding forward' });
    y.backward(t['embedding.gout']);
    assertClose(emb.weight.grad!, t['embedding.grad.weight'], { ...TOL, label: 'embedding grad' });
  });
});

describe('crossEntropy matches F.cross_entropy', () => {
  const cases: [string, number | undefined][] = [
    ['ce', undefined], ['ce_large', undefined], ['ce_ignore', undefined], ['ce_ignore2', 2], ['ce_nd', undefined], ['ce_unbatched', undefined],
  ];
  for (const [name, ignoreIndex] of cases) {
    it(`${name}: mean, sum and none reductions, and the gradient of the mean`, () => {
      const targets = t[`${name}.targets`];
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const loss = crossEntropy(t[`${name}.logits`], targets, { ignoreIndex, reduction });
        assertClose(loss, t[`${name}.${reduction}`], { ...TOL, label: `${name} ${reduction}` });
      }
      const logits = t[`${name}.logits`].clone().requiresGrad_();
      crossEntropy(logits, targets, { ignoreIndex }).backward();
      assertClose(logits.grad!, t[`${name}.grad.logits`], { ...TOL, label: `${name} grad` });
    });
  }
});

/** [min, max, mean, std] (sample std, n − 1), in float64. */
function stats(x: Tensor): [number, number, number, number] {
  const v = Array.from(x.data());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  const [lo, hi] = v.reduce(([a, b], x) => [Math.min(a, x), Math.max(b, x)], [Infinity, -Infinity]);
  return [lo, hi, mean, Math.sqrt(variance)];
}

describe('initialisation has PyTorch’s distributions', () => {
  // Bounds exactly; the sample std within 1% of PyTorch's (both are within ~0.3% of the true
  // value at these sizes); the mean within 5 standard errors of 0.
  for (const [name, inp, out] of [['linear_256_512', 256, 512], ['linear_9_4000', 9, 4000]] as const) {
    it(`Linear(${inp}, ${out}): weight and bias ~ U(±1/√${inp}), like PyTorch's`, () => {
      const layer = new Linear(inp, out, { generator: new Generator(7) });
      const bound = 1 / Math.sqrt(inp);
      for (const [param, p] of [['weight', layer.weight], ['bias', layer.bias!]] as const) {
        const [lo, hi, mean, std] = stats(p);
        const [tlo, thi, , tstd] = Array.from(t[`init.${name}.${param}`].data());
        expect(lo, `${param} min`).toBeGreaterThanOrEqual(-bound);
        expect(hi, `${param} max`).toBeLessThanOrEqual(bound);
        // PyTorch's own draws respect the same bound, and reach close to it
        expect(Math.max(-tlo, thi)).toBeLessThanOrEqual(bound);
        expect(Math.min(-lo, hi)).toBeGreaterThan(bound * (p.size > 1000 ? 0.99 : 0.9));
        expect(Math.abs(std / tstd - 1), `${param} std ${std} vs PyTorch ${tstd}`).toBeLessThan(0.01 + 3 / Math.sqrt(p.size));
        expect(Math.abs(std - bound / Math.sqrt(3)) / (bound / Math.sqrt(3))).toBeLessThan(0.01 + 3 / Math.sqrt(p.size));
        expect(Math.abs(mean)).toBeLessThan((5 * std) / Math.sqrt(p.size));
      }
    });
  }
  it('Embedding(1000, 64): weight ~ N(0, 1), like PyTorch’s', () => {
    const w = new Embedding(1000, 64, { generator: new Generator(7) }).weight;
    const [lo, hi, mean, std] = stats(w);
    const [tlo, thi, tmean, tstd] = Array.from(t['init.embedding_1000_64.weight'].data());
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(w.size));
    expect(Math.abs(tmean)).toBeLessThan(5 / Math.sqrt(w.size));
    expect(Math.abs(std / tstd - 1)).toBeLessThan(0.01);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
    // 64 000 normal draws reach about ±4.3: tails exist, as PyTorch's do
    expect(Math.min(-lo, hi)).toBeGreaterThan(3.5);
    expect(Math.min(-tlo, thi)).toBeGreaterThan(3.5);
  });
  it('the same generator seed gives the same weights; the default generator is used otherwise', () => {
    const a = new Linear(5, 3, { generator: new Generator(11) });
    const b = new Linear(5, 3, { generator: new Generator(11) });
    expect(a.weight.toArray()).toEqual(b.weight.toArray());
    expect(a.bias!.toArray()).toEqual(b.bias!.toArray());
    expect(new Linear(5, 3).weight.toArray()).not.toEqual(new Linear(5, 3).weight.toArray());
  });
});
