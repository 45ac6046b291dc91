// The wasm softmax against the JS reference: float64 max/exp/sum like the reference, with an exp of
// its own (within 2 ulp of Math.exp, tested over the whole softmax range), so float32 outputs are
// equal except, rarely, by one ulp; masked −∞ entries give exactly 0 and all-masked rows NaN.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, softmax, tensor, wasmSimdSupported } from '@wedge/core';
import { emitExp } from '../../packages/core/src/backend/wasm/kernels/math.ts';
import { check, isWasm, layoutArb, makeInput, on, runEmitted } from './harness.ts';

/** Distance in float64 ulps between a and b. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const buf = new BigInt64Array(new Float64Array([a, b]).buffer);
  return Number(buf[0] > buf[1] ? buf[0] - buf[1] : buf[1] - buf[0]);
}

describe.skipIf(!wasmSimdSupported())('wasm softmax', () => {
  it("emits an exp within 2 ulp of Math.exp over [−745, 0], exact 0 below and NaN for NaN", () => {
    const xs = new Float64Array(100_003);
    for (let i = 0; i < 100_000; i++) xs[i] = -745 * (i / 100_000) ** 1.5;
    xs.set([-746, NaN, -Infinity], 100_000);
    const want = Array.from(xs, Math.exp);
    const got = runEmitted(emitExp, xs);
    let worst = 0;
    for (let i = 0; i < 100_000; i++) if (want[i] > 2.3e-308) worst = Math.max(worst, ulps(got[i], want[i]));
    expect(worst).toBeLessThanOrEqual(2);
    expect([got[100_000], got[100_001], got[100_002]]).toEqual([0, NaN, 0]);
  });

  it('equals the reference in float32 (at most 1 ulp on a rare value) over any dim and layout', () => {
    const cases = fc.record({ shape: fc.array(fc.constantFrom(1, 2, 5, 8, 17, 64), { minLength: 1, maxLength: 3 }), layout: layoutArb,
      dimSeed: fc.nat(), scale: fc.constantFrom(1, 30), seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, layout, dimSeed, scale, seed }) => {
        const x = makeInput(shape, layout, seed).mul(scale);
        const dim = dimSeed % shape.length;
        const got = on('wasm', () => softmax(x, dim));
        expect(isWasm(got)).toBe(true);
        const [g, w] = [got.data(), on('cpu', () => softmax(x, dim)).data()];
        for (let i = 0; i < w.length; i++) {
          if (g[i] !== w[i] && !(Math.abs(g[i] - w[i]) <= 2 ** -23 * Math.abs(w[i]))) throw new Error(`[${i}] ${g[i]} vs ${w[i]}`);
        }
      }),
      40,
    );
  });

  it('gives exact zeros for masked −∞ entries and NaN for an all-masked row, as the reference does', () => {
    const x = tensor([[0, -Infinity, 1, -Infinity], [-Infinity, -Infinity, -Infinity, -Infinity], [NaN, 0, 1, 2]]);
    const f = (): Tensor => softmax(x, -1);
    expect(Array.from(on('wasm', f).data())).toEqual(Array.from(on('cpu', f).data()));
    expect(on('wasm', f).toArray()).toEqual([[0.2689414322376251, 0, 0.7310585975646973, 0], [NaN, NaN, NaN, NaN], [NaN, NaN, NaN, NaN]]);
  });
});
