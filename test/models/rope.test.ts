import { describe, expect, it } from 'vitest';
import { Generator, type Tensor, gradcheck, randn, tensor } from '@wedge/core';
import { RoPE, applyRope, applyRopeComposite, ropeTables } from '@wedge/models';
import { findSecondOrderMismatch } from '../helpers/second_order.ts';
import { assertClose } from '../helpers/assert_close.ts';
import { loadFixture } from './fixtures.ts';

describe('RoPE', () => {
  const f = loadFixture('models_rope.safetensors');

  it('builds the cos/sin tables PyTorch builds, for (8, 10) and (16, 64)', () => {
    for (const [dim, maxLen] of [[8, 10], [16, 64]]) {
      const { cos, sin } = ropeTables(dim, maxLen);
      expect(cos.shape).toEqual([maxLen, dim / 2]);
      assertClose(cos, f.tensors[`cos_${dim}_${maxLen}`], { atol: 1e-6, rtol: 0, label: `cos ${dim}/${maxLen}` });
      assertClose(sin, f.tensors[`sin_${dim}_${maxLen}`], { atol: 1e-6, rtol: 0, label: `sin ${dim}/${maxLen}` });
    }
  });

  it('rotates [B, H, T, D] as the seed does', () => {
    const rope = new RoPE(8, 10);
    assertClose(rope.forward(f.tensors.x), f.tensors.out, { atol: 1e-6, rtol: 1e-6 });
  });

  it('concatenates the rotated even/odd halves instead of re-interleaving them', () => {
    // one position t = 1, D = 4: angles 1·θ₀ = 1 and 1·θ₁ = 0.01
    const x = tensor([[[[0, 0, 0, 0], [1, 2, 3, 4]]]]); // [1, 1, 2, 4]
    const { cos, sin } = ropeTables(4, 2, 'float64');
    const out = applyRope(x.double(), cos, sin).toArray() as number[][][][];
    const [c0, c1, s0, s1] = [Math.cos(1), Math.cos(0.01), Math.sin(1), Math.sin(0.01)];
    // x₁ = (1, 3) (even features), x₂ = (2, 4) (odd): out = (x₁cos − x₂sin, x₁sin + x₂cos)
    const expected = [1 * c0 - 2 * s0, 3 * c1 - 4 * s1, 1 * s0 + 2 * c0, 3 * s1 + 4 * c1];
    out[0][0][1].forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(out[0][0][0]).toEqual([0, 0, 0, 0]);
  });

  it('stores its tables as the buffers cos and sin', () => {
    expect(Object.keys(new RoPE(8, 10).stateDict())).toEqual(['cos', 'sin']);
    expect(new RoPE(8, 10).parameters()).toEqual([]);
  });

  it('refuses a sequence longer than maxLen, naming both', () => {
    const rope = new RoPE(8, 10);
    expect(rope.forward(tensor(new Float32Array(10 * 8), { shape: [1, 1, 10, 8] })).shape).toEqual([1, 1, 10, 8]);
    const long = tensor(new Float32Array(11 * 8), { shape: [1, 1, 11, 8] });
    expect(() => rope.forward(long)).toThrow('RoPE: sequence length 11 exceeds maxLen 10 (input [1, 1, 11, 8])');
  });

  it('refuses an odd dim', () => {
    expect(() => new RoPE(7, 10)).toThrow('RoPE: dim must be a positive even integer, got 7');
  });

  it('runs as one fused op that equals the seed’s composite, forward and backward, on strided input', () => {
    const { cos, sin } = ropeTables(8, 10, 'float64');
    const base = randn([2, 5, 3, 8], { generator: new Generator(6), dtype: 'float64', requiresGrad: true }); // [B, T, H, D]
    const x = base.transpose(1, 2); // [B, H, T, D], strided, as splitHeads makes it
    const fused = applyRope(x, cos, sin);
    const composite = applyRopeComposite(x, cos, sin);
    assertClose(fused, composite, { atol: 1e-15, rtol: 1e-14 });
    const w = randn([2, 3, 5, 8], { generator: new Generator(7), dtype: 'float64' });
    fused.mul(w).sum().backward(undefined, { retainGraph: true }); // the transpose is shared
    const g = base.grad!;
    base.grad = null;
    composite.mul(w).sum().backward();
    assertClose(g, base.grad!, { atol: 1e-15, rtol: 1e-14 });
  });

  it('passes float64 gradchecks of first and second order (its backward is the transposed rotation)', () => {
    const { cos, sin } = ropeTables(6, 4, 'float64');
    const x = randn([2, 1, 4, 6], { generator: new Generator(8), dtype: 'float64', requiresGrad: true });
    const f = (t: Tensor): Tensor => applyRope(t, cos, sin).mul(applyRope(t, cos, sin)); // non-linear, for second order
    expect(gradcheck((t) => applyRope(t, cos, sin), [x])).toBe(true);
    expect(findSecondOrderMismatch(f, [x])).toBeNull();
  });
});
