// The arbitraries of @wedge/core/testing keep their promises: valid shapes and pairs, bounded or
// distinct values, and the size-1 and square trailing dims they are meant to draw often.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { broadcastShapes, matmul, zeros, sizeOf, Tensor } from '@wedge/core';
import {
  shape, broadcastPair, broadcastShapesOf, broadcastableTo, matmulPair, tensorOf, positiveTensor, nonZeroTensor,
  distinctTensors, indexTensor, axes, reshapeOf,
} from '@wedge/core/testing';

const RUNS = { numRuns: 200, seed: 5 };
const sample = <T>(arb: fc.Arbitrary<T>, n = 300): T[] => fc.sample(arb, { numRuns: n, seed: 5 });

describe('shapes', () => {
  it('respect rank and size bounds', () => {
    fc.assert(
      fc.property(shape({ minRank: 1, maxRank: 4, maxDim: 5 }), (s) => {
        expect(s.length).toBeGreaterThanOrEqual(1);
        expect(s.length).toBeLessThanOrEqual(4);
        for (const d of s) expect(d >= 1 && d <= 5).toBe(true);
      }),
      RUNS,
    );
  });

  it('often have size-1 dims and equal (square) trailing dims', () => {
    const shapes = sample(shape({ minRank: 2, maxRank: 3, maxDim: 6 }));
    const withOne = shapes.filter((s) => s.includes(1)).length;
    const square = shapes.filter((s) => s.at(-1) === s.at(-2) && s.at(-1)! > 1).length;
    expect(withOne / shapes.length).toBeGreaterThan(0.2);
    expect(square / shapes.length).toBeGreaterThan(0.2);
  });

  it('may be empty (size 0) only when minDim is 0', () => {
    expect(sample(shape()).every((s) => sizeOf(s) > 0)).toBe(true);
    expect(sample(shape({ minRank: 1, minDim: 0 })).some((s) => sizeOf(s) === 0)).toBe(true);
  });
});

describe('broadcasting and matmul shapes', () => {
  it('broadcastPair and broadcastShapesOf always broadcast', () => {
    fc.assert(fc.property(broadcastPair(), ([a, b]) => void broadcastShapes('test', a, b)), RUNS);
    fc.assert(fc.property(broadcastShapesOf(3), (ss) => void broadcastShapes('test', ...ss)), RUNS);
  });

  it('broadcastableTo(s) broadcasts to exactly s', () => {
    fc.assert(
      fc.property(shape().chain((s) => fc.tuple(fc.constant(s), broadcastableTo(s))), ([s, small]) => {
        expect(broadcastShapes('test', s, small)).toEqual(s);
      }),
      RUNS,
    );
  });

  it('matmulPair is always valid for matmul, and covers every form', () => {
    const pairs = sample(matmulPair());
    for (const [a, b] of pairs) expect(matmul(zeros(a), zeros(b))).toBeInstanceOf(Tensor);
    const forms = new Set(pairs.map(([a, b]) => `${a.length === 1 ? 'v' : 'm'}${b.length === 1 ? 'v' : 'm'}`));
    expect(forms).toEqual(new Set(['vv', 'vm', 'mv', 'mm']));
    expect(pairs.some(([a, b]) => a.length !== b.length && a.length > 2 && b.length > 1)).toBe(true); // broadcast batch
  });
});

describe('tensors', () => {
  it('tensorOf stays in [min, max] with the asked dtype and requiresGrad', () => {
    fc.assert(
      fc.property(tensorOf(shape(), { min: -1, max: 3, dtype: 'float32', requiresGrad: true }), (t) => {
        expect([t.dtype, t.requiresGrad]).toEqual(['float32', true]);
        for (const v of t.data()) expect(v >= -1 && v <= 3).toBe(true);
      }),
      RUNS,
    );
  });

  it('positiveTensor is positive, nonZeroTensor keeps away from 0, indexTensor stays in range', () => {
    fc.assert(fc.property(positiveTensor(shape()), (t) => [...t.data()].every((v) => v >= 0.1)), RUNS);
    fc.assert(fc.property(nonZeroTensor(shape()), (t) => [...t.data()].every((v) => Math.abs(v) >= 0.25)), RUNS);
    fc.assert(
      fc.property(indexTensor(shape(), 7), (t) => t.dtype === 'int32' && [...t.data()].every((v) => v >= 0 && v < 7)),
      RUNS,
    );
  });

  it('distinctTensors have no two values closer than (max − min) / (8 · size)', () => {
    fc.assert(
      fc.property(distinctTensors([[3, 4], [4], [2, 1]]), (ts) => {
        const all = ts.flatMap((t) => [...t.data()]).sort((a, b) => a - b);
        const gap = 4 / (8 * all.length);
        for (let i = 1; i < all.length; i++) expect(all[i] - all[i - 1]).toBeGreaterThanOrEqual(gap * (1 - 1e-12));
      }),
      { numRuns: 50, seed: 5 },
    );
  });

  it('generated tensors are cloned before each use, so mutating one cannot leak into another run', () => {
    const arb = tensorOf([2]);
    const [t] = sample(arb, 1);
    const copy = (t as unknown as Record<symbol, () => Tensor>)[fc.cloneMethod]();
    expect(copy).not.toBe(t);
    expect(copy.storage).not.toBe(t.storage);
    expect(copy.toArray()).toEqual(t.toArray());
  });
});

describe('axes and reshape targets', () => {
  it('axes are valid for reductions of that rank', () => {
    fc.assert(
      fc.property(shape().chain((s) => fc.tuple(fc.constant(s), axes(s.length))), ([s, dims]) => {
        expect(zeros(s).sum(dims).ndim).toBeLessThanOrEqual(s.length);
      }),
      RUNS,
    );
  });

  it('reshapeOf(s) keeps the element count', () => {
    fc.assert(
      fc.property(shape({ maxRank: 4 }).chain((s) => fc.tuple(fc.constant(s), reshapeOf(s))), ([s, to]) => {
        expect(zeros(s).reshape(to).size).toBe(sizeOf(s));
      }),
      RUNS,
    );
  });
});
