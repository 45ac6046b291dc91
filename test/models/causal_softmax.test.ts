// The fused causalSoftmax (scale → causal mask → softmax in one kernel) against the seed's composite
// lines: forward, gradients, float64 gradchecks over fast-check shapes and scales, second order, and
// the same numbers on the JS reference and the wasm engine.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, type Tensor, getBackend, gradcheck, listBackends, logKernels, randn, setBackend, tensor } from '@wedge/core';
import { StandardAttention, TripleProductAttention, causalSoftmax, causalSoftmaxComposite, gramDeterminant, tripleAttentionWeightsComposite } from '@wedge/models';
import { assertClose } from '../helpers/assert_close.ts';
import { findSecondOrderMismatch } from '../helpers/second_order.ts';

const scores = (shape: number[], dtype: 'float32' | 'float64', seed = 0): Tensor =>
  randn(shape, { generator: new Generator(seed), dtype, requiresGrad: true });

/** ∂(Σ w ⊙ f(x))/∂x. */
function gradOf(f: (x: Tensor) => Tensor, x: Tensor, w: Tensor): Tensor {
  x.grad = null;
  f(x).mul(w).sum().backward();
  const g = x.grad!;
  x.grad = null;
  return g;
}

describe('causalSoftmax (the fused scale → causal mask → softmax)', () => {
  const initial = getBackend().name;
  afterEach(() => setBackend(initial));

  it('is 0 above the diagonal, sums to 1 along each row, and matches a hand-computed 2×2', () => {
    const y = causalSoftmax(tensor([[1, 5], [0, Math.log(3)]], { dtype: 'float64' }), 1);
    const [[a, b], [c, d]] = y.toArray() as number[][];
    expect([a, b]).toEqual([1, 0]);
    expect(c).toBeCloseTo(0.25, 14); // softmax(0, ln 3) = (1/4, 3/4)
    expect(d).toBeCloseTo(0.75, 14);
  });

  it.each([
    ['standard: q·k / √D', 0.25],
    ['triple: −det G / D^1.5', -1 / 16 ** 1.5],
  ])('equals the composite (%s), forward and backward, in float64 and float32', (_, scale) => {
    for (const dtype of ['float64', 'float32'] as const) {
      const x = scores([2, 3, 5, 5], dtype, 1).mul(dtype === 'float64' ? 10 : 3).detach().requiresGrad_();
      const tol = dtype === 'float64' ? { atol: 1e-14, rtol: 1e-12 } : { atol: 1e-6, rtol: 1e-5 };
      assertClose(causalSoftmax(x, scale), causalSoftmaxComposite(x, scale), { ...tol, label: `${dtype} forward` });
      const w = randn([2, 3, 5, 5], { generator: new Generator(2), dtype });
      assertClose(gradOf((v) => causalSoftmax(v, scale), x, w), gradOf((v) => causalSoftmaxComposite(v, scale), x, w), { ...tol, label: `${dtype} gradient` });
    }
  });

  it('equals the triple attention’s seed lines (−det G · scale, mask, softmax) from the Gram entries', () => {
    const g = new Generator(3);
    const o = { generator: g, dtype: 'float64', requiresGrad: true } as const;
    const xs = [randn([2, 2, 4, 1], o), randn([2, 2, 1, 4], o), randn([2, 2, 4, 1], o), randn([2, 2, 4, 4], o), randn([2, 2, 4, 4], o), randn([2, 2, 4, 1], o)];
    const det = (): Tensor => gramDeterminant(xs[0], xs[1], xs[2], xs[3], xs[4], xs[5]);
    const scale = 1 / 8 ** 1.5;
    const fused = causalSoftmax(det(), -scale);
    const composite = tripleAttentionWeightsComposite(det(), scale);
    assertClose(fused, composite, { atol: 1e-14, rtol: 1e-12 });
    const w = randn([2, 2, 4, 4], { generator: new Generator(4), dtype: 'float64' });
    fused.mul(w).sum().backward();
    const grads = xs.map((x) => x.grad!);
    xs.forEach((x) => (x.grad = null));
    composite.mul(w).sum().backward();
    xs.forEach((x, i) => assertClose(grads[i], x.grad!, { atol: 1e-12, rtol: 1e-10, label: `grad of Gram entry ${i}` }));
  });

  it('passes float64 gradchecks of first and second order over random shapes and scales (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        (lead, T, scale, seed) => {
          const x = scores([...lead, T, T], 'float64', seed);
          const f = (v: Tensor): Tensor => causalSoftmax(v, scale);
          expect(gradcheck(f, [x], { atol: 1e-6, rtol: 1e-5 })).toBe(true);
          expect(findSecondOrderMismatch(f, [x])).toBeNull(); // its backward is made of ops
        },
      ),
      { numRuns: 25, seed: 7 },
    );
  });

  it('reads strided views (a transposed score matrix) as their values', () => {
    const x = scores([2, 4, 4], 'float64', 5).mT; // not contiguous
    assertClose(causalSoftmax(x, 0.5), causalSoftmaxComposite(x, 0.5), { atol: 1e-14, rtol: 1e-12 });
  });

  it('gives the same numbers on the JS reference and on the wasm engine (float32, T = 63)', (ctx) => {
    if (!listBackends().includes('wasm')) return ctx.skip('no wasm backend (WebAssembly SIMD) here');
    const x = scores([2, 4, 63, 63], 'float32', 6).detach();
    const w = randn([2, 4, 63, 63], { generator: new Generator(7) });
    const run = (b: string): [Tensor, Tensor] => {
      setBackend(b);
      const v = x.clone().requiresGrad_();
      const y = causalSoftmax(v, -0.125);
      y.mul(w).sum().backward();
      return [y, v.grad!];
    };
    const [yc, gc] = run('cpu');
    const [yw, gw] = run('wasm');
    assertClose(yw, yc, { atol: 1e-7, rtol: 1e-5, label: 'forward' });
    assertClose(gw, gc, { atol: 1e-7, rtol: 1e-5, label: 'gradient' });
    setBackend('cpu');
    assertClose(yc, causalSoftmaxComposite(x, -0.125), { atol: 1e-7, rtol: 1e-5, label: 'cpu vs composite' });
  });

  it.each([
    ['standard', StandardAttention],
    ['triple', TripleProductAttention],
  ] as const)('%s attention gives the composite lines’ output and weight gradients with the fused op', (_, Attention) => {
    const attn = new Attention(16, 2, 8, { generator: new Generator(8), dtype: 'float64' });
    const x = randn([2, 7, 16], { generator: new Generator(9), dtype: 'float64' });
    const run = (fused: boolean): Tensor[] => {
      attn.fuseSoftmax = fused;
      attn.zeroGrad();
      const y = attn.forward(x);
      y.square().sum().backward();
      return [y, ...attn.parameters().map((p) => p.grad!)];
    };
    const composite = run(false);
    run(true).forEach((t, i) => assertClose(t, composite[i], { atol: 1e-12, rtol: 1e-10, label: i === 0 ? 'output' : `grad ${i}` }));
  });

  it('runs as one causalSoftmax kernel on the active backend (no mask or softmax kernels of its own)', () => {
    const ran: string[] = [];
    logKernels((name, backend) => ran.push(`${name}@${backend}`));
    try {
      causalSoftmax(randn([2, 4, 4]), 0.5);
    } finally {
      logKernels(null);
    }
    expect(ran).toEqual([`causalSoftmax@${getBackend().name}`]);
  });

  it('names the op and the shape of scores it cannot take', () => {
    expect(() => causalSoftmax(randn([2, 3, 4]), 1)).toThrow('causalSoftmax: needs square scores [..., T, T], got [2, 3, 4]');
    expect(() => causalSoftmax(randn([4]), 1)).toThrow('causalSoftmax: needs square scores [..., T, T], got [4]');
    expect(() => causalSoftmax(tensor([[1, 2], [3, 4]], { dtype: 'int32' }), 1)).toThrow('causalSoftmax: needs a floating-point tensor, got int32 [2, 2]');
    expect(() => causalSoftmax(randn([2, 2]), Number.NaN)).toThrow('causalSoftmax: scale must be finite, got NaN');
  });
});
