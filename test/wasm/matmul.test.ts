// The wasm float32 matmul against its definition: each output is a float32 sum over k in order of
// float32 products (no FMA), which a plain loop with Math.fround reproduces bit for bit; and against
// the float64 product within float32's sequential-sum bound K·2⁻²⁴·Σ|a·b|. Shapes straddle the 6×8
// register tile (edge tiles), size-1 dims, K = 0, broadcast batch dims, transposed and sliced operands.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, matmul, wasmSimdSupported } from '@wedge/core';
import { check, expectSameBits, isWasm, layoutArb, makeInput, on } from './harness.ts';

const size = fc.constantFrom(1, 2, 5, 6, 7, 8, 9, 12, 13, 16, 17, 33);

/** out[p, i, j] = fround(…fround(fround(a₀b₀) + fround(a₁b₁))…), the products and sums in k order. */
function f32Loop(a: Tensor, b: Tensor, batch: readonly number[]): { exact: Float32Array; bound: Float64Array } {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.ndim - 1];
  const A = a.expand([...batch, M, K]).data(), B = b.expand([...batch, K, N]).data();
  const P = batch.reduce((x, y) => x * y, 1);
  const exact = new Float32Array(P * M * N), bound = new Float64Array(P * M * N);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, mag = 0;
        for (let k = 0; k < K; k++) {
          const ab = Math.fround(A[(p * M + i) * K + k] * B[(p * K + k) * N + j]);
          s = Math.fround(s + ab);
          mag += Math.abs(ab);
        }
        exact[(p * M + i) * N + j] = s;
        bound[(p * M + i) * N + j] = (K + 1) * 2 ** -24 * mag;
      }
    }
  }
  return { exact, bound };
}

describe.skipIf(!wasmSimdSupported())('wasm float32 matmul', () => {
  it('equals the in-order float32 loop bit for bit, and the float64 product within K·2⁻²⁴·Σ|a·b|', () => {
    const cases = fc.record({ M: size, K: fc.constantFrom(0, 1, 3, 8, 16, 33), N: size, la: layoutArb, lb: layoutArb,
      batch: fc.constantFrom<number[]>([], [2], [3, 1], [2, 2]), bcastA: fc.boolean(), resident: fc.boolean(), seed: fc.nat() });
    check(
      fc.property(cases, ({ M, K, N, la, lb, batch, bcastA, resident, seed }) => {
        const aBatch = bcastA ? batch.map(() => 1) : batch; // broadcast batch dims of a
        const a = makeInput([...aBatch, M, K], la, seed, 'float32', resident);
        const b = makeInput([...batch, K, N], lb, seed + 1, 'float32', resident);
        const got = on('wasm', () => matmul(a, b));
        expect(isWasm(got)).toBe(true);
        const { exact, bound } = f32Loop(a, b, batch);
        const label = `${la} [${a.shape}] @ ${lb} [${b.shape}]`;
        expectSameBits(label, got.data(), exact);
        const want = on('cpu', () => matmul(a.double(), b.double())).data();
        const g = got.data();
        for (let i = 0; i < want.length; i++) {
          if (!(Math.abs(g[i] - want[i]) <= bound[i])) throw new Error(`${label}: [${i}] ${g[i]} vs float64 ${want[i]} (bound ${bound[i]})`);
        }
      }),
      40,
    );
  });

  it('covers the attention shapes and a product large enough for several panels', () => {
    for (const [sa, sb] of [[[8, 63, 16], [8, 16, 63]], [[8, 63, 63], [8, 63, 16]], [[70, 130], [130, 90]]] as const) {
      const a = makeInput([...sa], 'contiguous', 3), b = makeInput([...sb], 'transposed', 4);
      expectSameBits(`[${sa}] @ [${sb}]`, on('wasm', () => matmul(a, b)).data(), f32Loop(a, b, sa.slice(0, -2)).exact);
    }
  });
});
