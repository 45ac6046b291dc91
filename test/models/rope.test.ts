import { describe, expect, it } from 'vitest';
import { tensor } from '@wedge/core';
import { RoPE, applyRope, ropeTables } from '@wedge/models';
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
});
