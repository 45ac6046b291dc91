// The models' fused `gramDet` kernel, declared for the gpu backend from @wedge/models with
// registerKernel, against its CPU kernel: broadcast [B, H, T, 1] / [B, H, 1, T] / [B, H, T, T] entries
// and strided layouts, on the GPU, and the same triple-attention forward on both backends.
import { describe, it, beforeAll, expect } from 'vitest';
import fc from 'fast-check';
import { Tensor, getBackend, kernelOf, runKernel, setBackend } from '@wedge/core';
import { GPU_BACKEND } from '@wedge/gpu';
import { gramDeterminant } from '@wedge/models';
import { MODES, U32, activate, check, makeInput } from './harness.ts';

/**
 * Each of det G's five terms is a product of three entries, each rounded once on the GPU and the
 * sum rounded five times: |gpu − cpu| ≤ 16·2⁻²⁴·Σ|terms|.
 */
function expectGramParity(label: string, xs: Tensor[]): void {
  setBackend('cpu');
  const want = gramDeterminant(...(xs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]));
  const [qq, kk, rr, qk, rk, rq] = xs.map((x) => x.abs());
  const mag = qq.mul(kk).mul(rr).add(qk.mul(rk).mul(rq).mul(2)).add(qq.mul(rk).mul(rk)).add(kk.mul(rq).mul(rq)).add(rr.mul(qk).mul(qk)).data();
  setBackend(GPU_BACKEND);
  const got = gramDeterminant(...(xs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]));
  expect(got.device, `${label}: computed on the GPU`).toBe('gpu');
  expect(got.shape).toEqual(want.shape);
  const [g, w] = [got.data(), want.data()];
  for (let i = 0; i < w.length; i++) {
    const bound = 16 * U32 * mag[i] + 1e-30;
    if (!(Math.abs(g[i] - w[i]) <= bound)) throw new Error(`${label}: [${i}] = ${g[i]} on the GPU, ${w[i]} on the CPU (bound ${bound})`);
  }
}

for (const { mode, skip } of MODES) {
  describe.skipIf(skip)(`the models' gramDet kernel runs on the GPU and matches the CPU kernel (${mode})`, () => {
    beforeAll(() => activate(mode));

    it('is registered for the gpu backend by @wedge/models (one name on every backend)', () => {
      const backend = getBackend();
      expect(backend.name).toBe(GPU_BACKEND);
      expect(typeof kernelOf(backend, 'gramDet')).toBe('function');
    });

    it('on broadcast Gram entries of [B, H, T, T] scores, strided layouts included', () => {
      const sizes = fc.constantFrom(1, 2, 3, 5, 17, 33);
      const cases = fc.record({ B: fc.constantFrom(1, 2), H: fc.constantFrom(1, 3), T: sizes, seed: fc.nat() });
      check(
        fc.property(cases, ({ B, H, T, seed }) => {
          const col = (s: number): Tensor => makeInput([B, H, T, 1], 'contiguous', s); //      [B, H, T, 1]
          const row = (s: number): Tensor => makeInput([B, H, 1, T], 'contiguous', s); //      [B, H, 1, T]
          const full = (s: number): Tensor => makeInput([B, H, T, T], 'transposed', s); //     [B, H, T, T]
          expectGramParity(`B${B} H${H} T${T}`, [col(seed), row(seed + 1), col(seed + 2), full(seed + 3), full(seed + 4), col(seed + 5)]);
        }),
        mode === 'cpu' ? 8 : 4,
      );
    });

    it('float64 entries go down the chain to the CPU kernel', () => {
      const x = makeInput([2, 3], 'contiguous', 1).double();
      setBackend(GPU_BACKEND);
      expect(runKernel('gramDet', [x, x, x, x, x, x], { dtype: 'float64' }).device).toBe('cpu');
    });
  });
}
