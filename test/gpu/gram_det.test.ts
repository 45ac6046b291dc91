// The fused Gram-determinant score kernel against the seed's composite (run on the CPU backend):
// strided [B, H, T, D] views, broadcast batch dims, causal masking, and its registration contract.
import { describe, it, beforeAll, expect } from 'vitest';
import fc from 'fast-check';
import { Tensor, getBackend, runKernel, setBackend, sum, mul, transpose } from '@wedge/core';
import { GPU_BACKEND, gramDetScoreReference, type GramDetAttrs } from '@wedge/gpu';
import { MODES, U32, activate, check, makeInput } from './harness.ts';

const size = fc.constantFrom(1, 2, 3, 5, 8, 17, 33);

/**
 * Compare the kernel with the composite. By Cauchy–Schwarz every term of det G is at most
 * qq·kk·rr, and each dot product carries a relative error of at most ~D·2⁻²⁴, so
 * |gpu − cpu| ≤ (3D + 10)·2⁻²⁴ · 6·qq·kk·rr · scale.
 */
function expectScoreParity(label: string, q: Tensor, k: Tensor, r: Tensor, attrs: GramDetAttrs): void {
  setBackend('cpu');
  const want = gramDetScoreReference(q, k, r, attrs);
  const norms = (x: Tensor): Tensor => sum(mul(x, x), -1, true);
  const mag = mul(mul(norms(q), transpose(norms(k), -2, -1)), norms(r)).mul(6 * attrs.scale).data();
  setBackend(GPU_BACKEND);
  const got = runKernel('gramDetScore', [q, k, r], attrs);
  expect(got.device, `${label}: computed on the GPU`).toBe('gpu');
  expect(got.shape).toEqual(want.shape);
  const D = q.shape[q.ndim - 1];
  const [g, w] = [got.data(), want.data()];
  for (let i = 0; i < w.length; i++) {
    const bound = (3 * D + 10) * U32 * mag[i] + 1e-30;
    if (w[i] === -Infinity) {
      if (g[i] !== -Infinity) throw new Error(`${label}: [${i}] should be masked to −∞, got ${g[i]}`);
    } else if (!(Math.abs(g[i] - w[i]) <= bound)) {
      throw new Error(`${label}: [${i}] = ${g[i]} on the GPU, ${w[i]} on the CPU (bound ${bound})`);
    }
  }
}

for (const { mode, skip } of MODES) {
  const numRuns = mode === 'cpu' ? 12 : 5;

  describe.skipIf(skip)(`gramDetScore kernel matches the seed's composite (${mode})`, () => {
    beforeAll(() => activate(mode));

    it('is registered on the gpu backend and takes float32 inputs of any size', () => {
      const backend = getBackend();
      expect(backend.name).toBe(GPU_BACKEND);
      expect(typeof backend.kernels.gramDetScore).toBe('function');
      const q = makeInput([1, 2, 3], 'contiguous', 1);
      expect(backend.accepts?.('gramDetScore', [q, q, q], { scale: 1 })).toBe(true);
    });

    it('on [B, H, T, D] views of [B, T, H, D] projections, with and without the causal mask', () => {
      const cases = fc.record({ B: fc.constantFrom(1, 2), H: fc.constantFrom(1, 3), T: size, S: size, D: size, causal: fc.boolean(), seed: fc.nat() });
      check(
        fc.property(cases, ({ B, H, T, S, D, causal, seed }) => {
          const view = (len: number, s: number): Tensor => makeInput([B, len, H, D], 'contiguous', s).transpose(1, 2); // [B, H, len, D]
          const attrs = { scale: 1 / D ** 1.5, causal };
          expectScoreParity(`B${B} H${H} T${T} S${S} D${D} causal ${causal}`, view(T, seed), view(S, seed + 1), view(T, seed + 2), attrs);
        }),
        numRuns,
      );
    });

    it('with broadcast (stride-0) batch dims and a sliced feature dim', () => {
      const q = makeInput([2, 3, 9, 4], 'sliced', 1);
      const k = makeInput([1, 3, 7, 4], 'contiguous', 2).expand([2, 3, 7, 4]);
      const r = makeInput([2, 1, 9, 4], 'contiguous', 3).expand([2, 3, 9, 4]);
      expectScoreParity('broadcast batch', q, k, r, { scale: 0.125 });
    });

    it('rejects mismatched shapes naming all three', () => {
      const q = makeInput([2, 5, 4], 'contiguous', 1);
      const k = makeInput([2, 5, 3], 'contiguous', 2);
      expect(() => runKernel('gramDetScore', [q, k, q], { scale: 1 })).toThrow(
        'gramDetScore: needs q, r [..., T, D] and k [..., S, D] with equal batch dims: q [2, 5, 4], k [2, 5, 3], r [2, 5, 4]',
      );
    });
  });
}
