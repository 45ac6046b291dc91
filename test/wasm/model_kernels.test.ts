// The models' fused kernels, declared for the wasm backend from @wedge/models (registerKernel), equal
// their CPU kernels bit for bit: gramDet over broadcast Gram entries, and rope both ways over
// [B, H, T, D] views of [B, T, H, D] projections.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, kernelOf, getBackend, runKernel, wasmSimdSupported } from '@wedge/core';
import { applyRope, gramDeterminant, ropeTables } from '@wedge/models';
import { check, expectSameBits, isWasm, makeInput, on } from './harness.ts';

describe.skipIf(!wasmSimdSupported())('the models\' fused kernels on wasm', () => {
  it('are registered for the wasm backend by @wedge/models', () => {
    on('wasm', () => {
      expect(typeof kernelOf(getBackend(), 'gramDet')).toBe('function');
      expect(typeof kernelOf(getBackend(), 'rope')).toBe('function');
    });
  });

  it('gramDet equals the CPU kernel on broadcast [B, H, T, 1] / [B, H, 1, T] / [B, H, T, T] entries', () => {
    const cases = fc.record({ B: fc.constantFrom(1, 2), H: fc.constantFrom(1, 3), T: fc.constantFrom(1, 2, 5, 9, 17), dtype: fc.constantFrom('float32', 'float64' as const), seed: fc.nat() });
    check(
      fc.property(cases, ({ B, H, T, dtype, seed }) => {
        const col = (s: number): Tensor => makeInput([B, H, T, 1], 'contiguous', s, dtype);
        const row = (s: number): Tensor => makeInput([B, H, 1, T], 'contiguous', s, dtype);
        const full = (s: number): Tensor => makeInput([B, H, T, T], 'transposed', s, dtype);
        const xs = [col(seed), row(seed + 1), col(seed + 2), full(seed + 3), full(seed + 4), col(seed + 5)] as const;
        const got = on('wasm', () => gramDeterminant(...xs));
        expect(isWasm(got)).toBe(true);
        expectSameBits(`gramDet ${dtype} B${B} H${H} T${T}`, got.data(), on('cpu', () => gramDeterminant(...xs)).data());
      }),
      30,
    );
  });

  it('rope and its transpose equal the CPU kernel on strided [B, H, T, D] views', () => {
    const cases = fc.record({ B: fc.constantFrom(1, 2), H: fc.constantFrom(1, 4), T: fc.constantFrom(1, 3, 8), D: fc.constantFrom(2, 4, 16), transpose: fc.boolean(), seed: fc.nat() });
    check(
      fc.property(cases, ({ B, H, T, D, transpose, seed }) => {
        const x = makeInput([B, T, H, D], 'contiguous', seed).transpose(1, 2); //   [B, H, T, D] view
        const { cos, sin } = ropeTables(D, 16);
        const f = (): Tensor => (transpose ? runKernel('rope', [x, cos, sin], { transpose }) : applyRope(x, cos, sin));
        const got = on('wasm', f);
        expect(isWasm(got)).toBe(true);
        expectSameBits(`rope B${B} H${H} T${T} D${D} transpose ${transpose}`, got.data(), on('cpu', f).data());
      }),
      30,
    );
  });
});
