// The wasm exp / log / sigmoid (float32), logSoftmax, indexSelect and indexAdd against the JS
// reference. exp and log are computed in float64 by kernels/math.ts and checked within 2 ulp
// (float64) of Math.exp / Math.log over their whole range and at the edge values; float32 results
// then equal the reference's except, rarely, by 1 ulp (float32). indexSelect and indexAdd are
// copies and in-order adds: bit-identical, for any thread count.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type DType, type Tensor, exp, getNumThreads, indexSelect, log, logSoftmax, runKernel, setNumThreads, sigmoid, tanh, tensor, wasmSimdSupported,
} from '@wedge/core';
import { EXP_OVERFLOW, emitExp, emitLog } from '../../packages/core/src/backend/wasm/kernels/math.ts';
import { check, expectSameBits, isWasm, layoutArb, makeInput, on, runEmitted, useThreads } from './harness.ts';

const defaultThreads = getNumThreads();
afterAll(() => setNumThreads(defaultThreads));

/** Distance in float64 ulps between a and b (0 for equal values, NaN equal to NaN). */
function ulps64(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  const buf = new BigInt64Array(new Float64Array([a, b]).buffer);
  const [x, y] = [buf[0] < 0n ? -(buf[0] & 0x7fffffffffffffffn) : buf[0], buf[1] < 0n ? -(buf[1] & 0x7fffffffffffffffn) : buf[1]];
  return Number(x > y ? x - y : y - x);
}
/** Distance in float32 ulps. */
function ulps32(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  const buf = new Int32Array(new Float32Array([a, b]).buffer);
  const [x, y] = [buf[0] < 0 ? -(buf[0] & 0x7fffffff) : buf[0], buf[1] < 0 ? -(buf[1] & 0x7fffffff) : buf[1]];
  return Math.abs(x - y);
}

const EDGES = [0, -0, Infinity, -Infinity, NaN, 5e-324, -5e-324, 2.2250738585072014e-308, 1.401298464324817e-45, 1.1754943508222875e-38,
  Number.MAX_VALUE, 1, -1, 0.5, 2, Math.SQRT2, Math.SQRT1_2, 88.72283935546875, 88.7228317, -103.97, -87.33654, 709.78, 709.7827128933841,
  709.783, -745.13, -745.14, -745.2, -746, 1e-300, 1 + 2 ** -52, 1 - 2 ** -53];

describe.skipIf(!wasmSimdSupported())('wasm exp and log (float64 emitters)', () => {
  it('exp is within 2 ulp of Math.exp over [−745, 709.78] and exact at the edges (0, ±∞, NaN, overflow, underflow)', () => {
    const xs: number[] = [];
    for (let i = 0; i <= 200_000; i++) xs.push(-745 + (EXP_OVERFLOW + 745) * (i / 200_000));
    const got = runEmitted(emitExp, [...xs, ...EDGES]);
    let worst = 0;
    xs.forEach((x, i) => {
      const want = Math.exp(x);
      if (want > 2.3e-308) worst = Math.max(worst, ulps64(got[i], want));
    });
    expect(worst).toBeLessThanOrEqual(2);
    EDGES.forEach((x, j) => {
      const want = Math.exp(x), y = got[xs.length + j];
      // subnormal results: within 2 ulp of the subnormal spacing
      expect(ulps64(y, want), `exp(${x}) = ${y}, Math.exp ${want}`).toBeLessThanOrEqual(want !== 0 && want < 2.3e-308 ? 2 : Number.isFinite(want) && want !== 0 ? 2 : 0);
    });
  });

  it('log is within 2 ulp of Math.log over positive values from the subnormals to MAX_VALUE, and exact at the edges', () => {
    check(
      fc.property(fc.array(fc.double({ min: 5e-324, max: Number.MAX_VALUE, noNaN: true }), { minLength: 1, maxLength: 200 }), (xs) => {
        const got = runEmitted(emitLog, xs);
        xs.forEach((x, i) => expect(ulps64(got[i], Math.log(x)), `log(${x}) = ${got[i]}, Math.log ${Math.log(x)}`).toBeLessThanOrEqual(2));
      }),
      200,
    );
    const near1 = Array.from({ length: 20_000 }, (_, i) => 0.5 + i / 10_000); // [0.5, 2.5): cancellation near 1
    const got = runEmitted(emitLog, near1);
    near1.forEach((x, i) => expect(ulps64(got[i], Math.log(x)), `log(${x})`).toBeLessThanOrEqual(2));
    const edges = runEmitted(emitLog, EDGES);
    EDGES.forEach((x, j) => {
      const want = Math.log(x);
      expect(ulps64(edges[j], want), `log(${x}) = ${edges[j]}, Math.log ${want}`).toBeLessThanOrEqual(Number.isFinite(want) && want !== 0 ? 2 : 0);
    });
  });
});

const f32Value = fc.oneof(
  fc.float({ noDefaultInfinity: false }), // every float32, NaN, ±∞, subnormals
  fc.float({ min: -100, max: 100, noNaN: true }),
  fc.float({ min: -1, max: 1, noNaN: true }),
  fc.constantFrom(...EDGES.map(Math.fround)),
);
const MATH: Record<string, (x: Tensor) => Tensor> = { exp, log, sigmoid, tanh };

describe.skipIf(!wasmSimdSupported())('wasm float32 exp / log / tanh / sigmoid equal the reference within 1 ulp (float32)', () => {
  it('over every float32 (edges included), strided and broadcast operands', () => {
    let differing = 0, total = 0;
    check(
      fc.property(fc.constantFrom(...Object.keys(MATH)), fc.array(f32Value, { minLength: 1, maxLength: 64 }), layoutArb, (op, values, layout) => {
        const base = tensor(values, { dtype: 'float32' });
        const x = layout === 'sliced' ? tensor(values.flatMap((v) => [v, 7]), { dtype: 'float32' }).slice(0, 0, undefined, 2)
          : layout === 'expanded' ? base.reshape([1, values.length]).expand([3, values.length])
          : layout === 'transposed' ? base.reshape([1, values.length]).transpose(0, 1)
          : base;
        const got = on('wasm', () => MATH[op](x));
        const want = on('cpu', () => MATH[op](x));
        expect(isWasm(got), `${op} ran on wasm`).toBe(true);
        const g = got.data(), w = want.data();
        for (let i = 0; i < w.length; i++) {
          const d = ulps32(g[i], w[i]);
          expect(d, `${op}(${x.data()[i]}) = ${g[i]} on wasm, ${w[i]} on the reference`).toBeLessThanOrEqual(1);
          differing += d > 0 ? 1 : 0;
          total++;
        }
      }),
      300,
    );
    expect(differing / total).toBeLessThan(1e-3);
  });

  it('float64 and int32 inputs stay on the reference (exact Math.exp)', () => {
    const x = tensor([0.5, 1, 2], { dtype: 'float64' });
    expect(on('wasm', () => exp(x)).data()).toEqual(Float64Array.from([0.5, 1, 2], Math.exp));
    expect(on('wasm', () => exp(tensor([1, 2], { dtype: 'int32' }))).dtype).toBe('float32');
  });
});

describe.skipIf(!wasmSimdSupported())('wasm logSoftmax', () => {
  it('equals the reference (float32: ≤ 1 ulp, nearly always equal; float64: ≤ 4e-15 relative) over strided rows, any dim', () => {
    const cases = fc.record({
      shape: fc.array(fc.constantFrom(1, 2, 3, 5, 8, 17, 64), { minLength: 1, maxLength: 3 }), dim: fc.nat(), layout: layoutArb,
      dtype: fc.constantFrom<DType>('float32', 'float64'), scale: fc.constantFrom(1, 10, 100), seed: fc.nat(),
    });
    let differing = 0, total = 0;
    check(
      fc.property(cases, ({ shape, dim, layout, dtype, scale, seed }) => {
        const x = makeInput(shape, layout, seed, dtype).mul(scale);
        const d = dim % shape.length;
        const got = on('wasm', () => logSoftmax(x, d)), want = on('cpu', () => logSoftmax(x, d));
        expect(isWasm(got)).toBe(true);
        const g = got.data(), w = want.data();
        for (let i = 0; i < w.length; i++) {
          if (dtype === 'float32') {
            const u = ulps32(g[i], w[i]);
            expect(u, `[${i}] ${g[i]} vs ${w[i]}`).toBeLessThanOrEqual(1);
            differing += u > 0 ? 1 : 0;
          } else {
            expect(Math.abs(g[i] - w[i]), `[${i}] ${g[i]} vs ${w[i]}`).toBeLessThanOrEqual(4e-15 * Math.max(1, Math.abs(w[i])));
          }
          total++;
        }
      }),
      80,
    );
    expect(differing / total).toBeLessThan(1e-3);
  });

  it('gives −∞ for a masked entry and NaN for an all-masked row, as the reference', () => {
    const x = tensor([[0, -Infinity, 1], [-Infinity, -Infinity, -Infinity], [NaN, 0, 1]], { dtype: 'float32' });
    expectSameBits('masked rows', on('wasm', () => logSoftmax(x, 1)).data(), on('cpu', () => logSoftmax(x, 1)).data());
  });
});

const indexCases = fc.record({
  shape: fc.array(fc.constantFrom(1, 2, 3, 4, 5, 9, 16), { minLength: 1, maxLength: 3 }), dim: fc.nat(), layout: layoutArb,
  dtype: fc.constantFrom<DType>('float32', 'float64', 'int32'), ids: fc.array(fc.nat(), { minLength: 0, maxLength: 40 }), seed: fc.nat(),
});

describe.skipIf(!wasmSimdSupported())('wasm indexSelect and indexAdd are bit-identical to the reference', () => {
  it('indexSelect: any dim, repeated indices, strided sources, float32 / float64 / int32', () => {
    check(
      fc.property(indexCases, ({ shape, dim, layout, dtype, ids, seed }) => {
        const d = dim % shape.length;
        const x0 = makeInput(shape, layout, seed, dtype === 'int32' ? 'float32' : dtype);
        const x = dtype === 'int32' ? x0.mul(1000).to('int32') : x0;
        const index = tensor(ids.map((i) => i % shape[d]), { dtype: 'int32' });
        const got = on('wasm', () => indexSelect(x, d, index)), want = on('cpu', () => indexSelect(x, d, index));
        expect(isWasm(got)).toBe(true);
        expect(got.shape).toEqual(want.shape);
        expectSameBits(`indexSelect ${dtype} [${shape}] dim ${d}`, got.data(), want.data());
      }),
      120,
    );
  });

  it('indexAdd (indexSelect\'s gradient): in-order sums into repeated rows, strided sources', () => {
    check(
      fc.property(indexCases, ({ shape, dim, layout, dtype, ids, seed }) => {
        if (dtype === 'int32') dtype = 'float32';
        const d = dim % shape.length;
        const srcShape: number[] = [...shape];
        srcShape[d] = ids.length;
        const src = makeInput(srcShape, layout, seed, dtype).mul(100);
        const index = tensor(ids.map((i) => i % shape[d]), { dtype: 'int32' });
        const f = (): Tensor => runKernel('indexAdd', [index, src], { dim: d, shape, dtype });
        const got = on('wasm', f), want = on('cpu', f);
        expect(isWasm(got)).toBe(true);
        expectSameBits(`indexAdd ${dtype} [${shape}] dim ${d} ids [${ids}]`, got.data(), want.data());
      }),
      120,
    );
  });

  it('gather and scatterAdd: any dim, index smaller than x outside dim, strided x and transposed index', () => {
    const cases = fc.record({
      shape: fc.array(fc.constantFrom(1, 2, 3, 4, 5, 9), { minLength: 1, maxLength: 3 }), dim: fc.nat(), layout: layoutArb,
      dtype: fc.constantFrom<DType>('float32', 'float64', 'int32'), shrink: fc.array(fc.nat({ max: 4 }), { minLength: 3, maxLength: 3 }),
      idLen: fc.integer({ min: 1, max: 7 }), transposeIndex: fc.boolean(), seed: fc.nat(),
    });
    check(
      fc.property(cases, ({ shape, dim, layout, dtype, shrink, idLen, transposeIndex, seed }) => {
        const d = dim % shape.length;
        const x0 = makeInput(shape, layout, seed, dtype === 'int32' ? 'float32' : dtype);
        const x = dtype === 'int32' ? x0.mul(1000).to('int32') : x0;
        const iShape = shape.map((s, i) => (i === d ? idLen : Math.max(1, s - shrink[i])));
        const n = iShape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed) >>> 0) % shape[d]);
        const t = transposeIndex && iShape.length >= 2;
        const stored = t ? [...iShape.slice(0, -2), iShape[iShape.length - 1], iShape[iShape.length - 2]] : iShape;
        let index = tensor(values, { dtype: 'int32' }).reshape(stored);
        if (t) index = index.transpose(-2, -1);
        const g = (): Tensor => x.gather(d, index);
        const got = on('wasm', g), want = on('cpu', g);
        expect(isWasm(got)).toBe(true);
        expectSameBits(`gather ${dtype} [${shape}] dim ${d} index [${iShape}]`, got.data(), want.data());
        if (dtype === 'int32') return;
        const src = makeInput(iShape, layout, seed + 1, dtype).mul(100);
        const sa = (): Tensor => runKernel('scatterAdd', [index, src], { dim: d, shape, dtype });
        const gotS = on('wasm', sa);
        expect(isWasm(gotS)).toBe(true);
        expectSameBits(`scatterAdd ${dtype} [${shape}] dim ${d} index [${iShape}]`, gotS.data(), on('cpu', sa).data());
      }),
      150,
    );
  });

  it.skipIf(typeof SharedArrayBuffer === 'undefined')('give the same bits on 1, 2 and 3 threads (embedding-sized calls)', async () => {
    const weight = makeInput([50, 64], 'contiguous', 1);
    const ids = tensor(Array.from({ length: 2048 }, (_, i) => (i * 7919) % 50), { dtype: 'int32' });
    const g = makeInput([2048, 64], 'contiguous', 2).mul(3);
    const x = makeInput([64, 700], 'sliced', 3).mul(20);
    const gIds = tensor(Array.from({ length: 64 * 600 }, (_, i) => (i * 7919) % 700), { dtype: 'int32' }).reshape([64, 600]);
    const run = (): ArrayLike<number>[] => on('wasm', () => [
      indexSelect(weight, 0, ids), runKernel('indexAdd', [ids, g], { dim: 0, shape: [50, 64], dtype: 'float32' }),
      logSoftmax(x, 1), exp(x), log(x.abs()), x.gather(1, gIds),
    ].map((t) => t.data()));
    await useThreads(1);
    const one = run();
    expectSameBits('indexAdd vs the reference', one[1], on('cpu', () => runKernel('indexAdd', [ids, g], { dim: 0, shape: [50, 64], dtype: 'float32' })).data());
    for (const n of [2, 3]) {
      await useThreads(n);
      run().forEach((r, i) => expectSameBits(`result ${i} on ${n} threads`, r, one[i]));
    }
  });
});
