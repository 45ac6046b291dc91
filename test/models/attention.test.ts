import { describe, expect, it } from 'vitest';
import { Generator, type Linear, type Parameter, type Tensor, cat, gradcheck, randn, tensor } from '@wedge/core';
import { StandardAttention, TripleProductAttention, causalMask, gramDeterminant, gramDeterminantComposite } from '@wedge/models';
import { assertClose } from '../helpers/assert_close.ts';
import { findSecondOrderMismatch } from '../helpers/second_order.ts';
import { loadFixture } from './fixtures.ts';

const ATTENTIONS = [
  ['standard', StandardAttention, 'StandardAttention'],
  ['triple', TripleProductAttention, 'TripleProductAttention'],
] as const;

/** The attention's projections, in state-dict order. */
function linears(attn: StandardAttention | TripleProductAttention): Linear[] {
  return attn instanceof StandardAttention ? [attn.qkv, attn.o] : [attn.W_q, attn.W_k, attn.W_r, attn.W_v, attn.W_o];
}

describe('causalMask', () => {
  it('is true exactly above the diagonal (the future keys)', () => {
    expect(causalMask(3).toArray()).toEqual([
      [false, true, true],
      [false, false, true],
      [false, false, false],
    ]);
  });
});

describe('gramDeterminant (the fused Gram determinant)', () => {
  // the entries broadcast as in the attention: [B, H, T, 1], [B, H, 1, S], [B, H, T, S]
  const entries = (dtype: 'float32' | 'float64'): Tensor[] => {
    const g = new Generator(4);
    const opts = { generator: g, dtype, requiresGrad: true } as const;
    return [randn([2, 1, 3, 1], opts), randn([2, 1, 1, 4], opts), randn([2, 1, 3, 1], opts), randn([2, 1, 3, 4], opts), randn([2, 1, 3, 4], opts), randn([2, 1, 3, 1], opts)];
  };

  it('equals the seed’s five-term composite, forward and backward', () => {
    const xs = entries('float64');
    const fused = gramDeterminant(...(xs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]));
    const composite = gramDeterminantComposite(...(xs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]));
    expect(fused.shape).toEqual([2, 1, 3, 4]);
    assertClose(fused, composite, { atol: 1e-12, rtol: 1e-12 });
    const w = randn([2, 1, 3, 4], { generator: new Generator(5), dtype: 'float64' });
    fused.mul(w).sum().backward();
    const grads = xs.map((x) => x.grad!);
    xs.forEach((x) => (x.grad = null));
    composite.mul(w).sum().backward();
    xs.forEach((x, i) => assertClose(grads[i], x.grad!, { atol: 1e-12, rtol: 1e-12, label: `grad of entry ${i}` }));
  });

  it('is exactly 0 for dependent vectors and matches a hand-computed determinant', () => {
    // q = (1, 0), k = (1, 1), r = (0, 1) in 2-D: linearly dependent, det G = 0
    const t = (v: number): Tensor => tensor([v], { dtype: 'float64' });
    expect(gramDeterminant(t(1), t(2), t(1), t(1), t(1), t(0)).item()).toBe(0);
    // orthonormal q, r and k = 3·e₃: det G = 9
    expect(gramDeterminant(t(1), t(9), t(1), t(0), t(0), t(0)).item()).toBe(9);
  });

  it('passes float64 gradchecks of first and second order in all six entries', () => {
    const xs = entries('float64');
    const f = (...e: Tensor[]): Tensor => gramDeterminant(e[0], e[1], e[2], e[3], e[4], e[5]);
    expect(gradcheck(f, xs, { atol: 1e-6, rtol: 1e-5 })).toBe(true);
    expect(findSecondOrderMismatch(f, xs)).toBeNull(); // its backward is made of ops
  });

  it('names the shapes that do not broadcast', () => {
    const [qq, kk, rr, qk, rk] = entries('float32');
    expect(() => gramDeterminant(qq, kk, rr, qk, rk, randn([2, 1, 5, 1]))).toThrow('gramDet');
  });
});

describe.each(ATTENTIONS)('%s attention', (name, Attention, layer) => {
  it('maps [B, T, C] to [B, T, C] and refuses other shapes', () => {
    const attn = new Attention(16, 2, 8, { generator: new Generator(0) });
    expect(attn.forward(randn([3, 5, 16])).shape).toEqual([3, 5, 16]);
    expect(() => attn.forward(randn([3, 5, 12]))).toThrow(`${layer}: input must be [B, T, 16], got [3, 5, 12]`);
    expect(() => new Attention(16, 3)).toThrow(`${layer}: dModel (16) must be a positive multiple of nHead (3)`);
    expect(() => attn.forward(randn([1, 9, 16]))).toThrow('RoPE: sequence length 9 exceeds maxLen 8');
  });

  it('has the seed’s state-dict names', () => {
    const keys = Object.keys(new Attention(16, 2, 8).stateDict());
    const weights = name === 'standard' ? ['qkv', 'o'] : ['W_q', 'W_k', 'W_r', 'W_v', 'W_o'];
    expect(keys).toEqual([...weights.map((w) => `${w}.weight`), 'rope.cos', 'rope.sin']);
  });

  it('is causal: new tokens from position s on leave every output before s unchanged', () => {
    const g = new Generator(1);
    const attn = new Attention(16, 2, 8, { generator: g });
    const x = randn([2, 6, 16], { generator: g }); // [B, T, C]
    const y = attn.forward(x);
    for (const s of [1, 3, 5]) {
      const x2 = cat([x.slice(1, 0, s), randn([2, 6 - s, 16], { generator: g })], 1);
      const y2 = attn.forward(x2);
      assertClose(y2.slice(1, 0, s), y.slice(1, 0, s), { atol: 1e-6, rtol: 1e-5, label: `outputs before ${s}` });
      const moved = Math.max(...Array.from(y2.slice(1, s).sub(y.slice(1, s)).abs().data()));
      expect(moved).toBeGreaterThan(1e-3); // the mask hides only the future, not the present
    }
  });

  it('passes a float64 gradcheck in its input and in every weight', () => {
    const g = new Generator(2);
    const attn = new Attention(8, 2, 6, { generator: g, dtype: 'float64' });
    const x = randn([2, 4, 8], { generator: g, dtype: 'float64', requiresGrad: true });
    const layers = linears(attn);
    const weights = layers.map((l) => l.weight.detach().clone().requiresGrad_());
    // run the module with the probe's weights in place of its own
    const f = (xi: Tensor, ...ws: Tensor[]): Tensor => {
      const own = layers.map((l) => l.weight);
      layers.forEach((l, i) => (l.weight = ws[i] as Parameter));
      try {
        return attn.forward(xi);
      } finally {
        layers.forEach((l, i) => (l.weight = own[i]));
      }
    };
    expect(gradcheck(f, [x, ...weights], { atol: 1e-6, rtol: 1e-5 })).toBe(true);
  });

  it('matches the seed’s PyTorch module: output and the gradients of x and every weight', () => {
    const f = loadFixture(`models_small_${name}.safetensors`);
    const attn = new Attention(Number(f.meta.d_model), Number(f.meta.n_head), Number(f.meta.max_len));
    const state = Object.fromEntries(Object.entries(f.under('state')).filter(([k]) => k.startsWith('attn.')).map(([k, v]) => [k.slice(5), v]));
    attn.loadStateDict(state);
    const x = f.tensors['attn.x'].detach().requiresGrad_();
    const y = attn.forward(x);
    assertClose(y, f.tensors['attn.y'], { atol: 1e-6, rtol: 1e-5, label: 'y' });
    y.mul(f.tensors['attn.w']).sum().backward();
    assertClose(x.grad!, f.tensors['attn.grad.x'], { atol: 1e-6, rtol: 1e-4, label: 'grad x' });
    const grads = f.under('attn.grad');
    for (const [k, p] of attn.namedParameters()) {
      assertClose(p.grad!, grads[k], { atol: 1e-6, rtol: 1e-4, label: `grad ${k}` });
    }
    expect(attn.namedParameters().length).toBe(Object.keys(grads).length - 1); // all but x
  });
});
