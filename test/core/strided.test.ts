// Every CPU kernel reads strided views (transposed, stepped, offset, broadcast with stride 0)
// exactly as it reads a contiguous copy of the same values: op(view) equals op(view.contiguous()).
import { describe, expect, it } from 'vitest';
import fc, { type Arbitrary } from 'fast-check';
import {
  type Tensor, add, sub, mul, div, pow, maximum, minimum, where, maskedFill, sum, mean, max, min, argmax, argmin, softmax,
  logSoftmax, matmul, gather, indexSelect, cat, stack, tril, cast, exp, abs, neg, tensor, UNARY_OPS, ELEMENTWISE_OPS,
} from '@wedge/core';
import { shape, tensorOf } from '@wedge/core/testing';

/** A strided view of a fresh base tensor, described for failure messages. */
interface View {
  view: Tensor;
  how: string;
}

/** Views that are not contiguous: permuted, stepped slices, offset slices, expanded size-1 dims. */
function stridedView(): Arbitrary<View> {
  return shape({ minRank: 1, maxRank: 3, maxDim: 5 }).chain((s) =>
    fc
      .tuple(
        tensorOf(s, { dtype: 'float32', min: -3, max: 3 }),
        fc.integer({ min: 0, max: s.length - 1 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 3 }),
        fc.constantFrom('permute', 'step', 'offset', 'expand', 'permute+step'),
      )
      .map(([base, dim, start, step, times, kind]): View => {
        const reversed = base.permute(base.shape.map((_, i) => base.ndim - 1 - i));
        switch (kind) {
          case 'permute': return { view: reversed, how: `${fmt(base)}.permute(reversed)` };
          case 'step': return { view: base.slice(dim, start, undefined, step), how: `${fmt(base)}.slice(${dim}, ${start}, _, ${step})` };
          case 'offset': return { view: base.slice(dim, start), how: `${fmt(base)}.slice(${dim}, ${start})` };
          case 'expand': {
            const shapeOut = [...base.shape];
            shapeOut.splice(dim, 0, times);
            return { view: base.unsqueeze(dim).expand(shapeOut), how: `${fmt(base)}.unsqueeze(${dim}).expand(${JSON.stringify(shapeOut)})` };
          }
          default:
            return { view: reversed.slice(-1, start, undefined, step), how: `${fmt(base)}.permute(reversed).slice(-1, ${start}, _, ${step})` };
        }
      })
      .filter(({ view }) => view.size > 0 && !view.isContiguous()),
  );
}

const fmt = (t: Tensor): string => JSON.stringify(t.shape);

/** Ops of one tensor (and its own contiguous copy where a second operand is needed). */
const OPS: [string, (x: Tensor) => Tensor | Tensor[]][] = [
  // every unary op of the table, on |x| where its domain is positive (log, sqrt)
  ...UNARY_OPS.map((name): [string, (x: Tensor) => Tensor] => {
    const f = ELEMENTWISE_OPS[name].fn as (x: Tensor) => Tensor;
    return (ELEMENTWISE_OPS[name].domain[0].min ?? -1) > 0 ? [`${name} |x|`, (x) => f(abs(x))] : [name, f];
  }),
  ['cast float64', (x) => cast(x, 'float64')], ['cast int32', (x) => cast(x, 'int32')], ['cast bool', (x) => cast(x, 'bool')],
  ['add x + x', (x) => add(x, x)], ['sub x − 1', (x) => sub(x, 1)], ['mul x · x', (x) => mul(x, x)], ['div x / 3', (x) => div(x, 3)],
  ['pow |x| ^ x', (x) => pow(abs(x), x)], ['maximum(x, 0.5)', (x) => maximum(x, 0.5)], ['minimum(x, x²)', (x) => minimum(x, mul(x, x))],
  ['comparisons', (x) => [x.eq(x), x.lt(0.5), x.ge(-0.5), x.ne(1)]],
  ['where', (x) => where(x.gt(0), x, neg(x))], ['maskedFill', (x) => maskedFill(x, x.lt(0), -9)],
  ['reductions over all', (x) => [sum(x), mean(x), max(x), min(x), argmax(x), argmin(x)]],
  ['reductions per axis', (x) => x.shape.flatMap((_, d) => [sum(x, d), mean(x, d, true), max(x, d), min(x, d), argmax(x, d), argmin(x, d, true)])],
  ['reduction over the first and last axes', (x) => (x.ndim >= 2 ? [sum(x, [0, -1]), max(x, [0, -1], true)] : sum(x, [0]))],
  ['softmax per axis', (x) => x.shape.flatMap((_, d) => [softmax(x, d), logSoftmax(x, d)])],
  ['matmul x · xᵀ', (x) => (x.ndim >= 2 ? matmul(x, x.mT) : matmul(x, x))],
  ['matmul xᵀ · x', (x) => (x.ndim >= 2 ? matmul(x.mT, x) : matmul(x, x))],
  ['gather along the last axis', (x) => gather(x, -1, lastThenFirst(x.shape))],
  ['indexSelect along the first axis', (x) => indexSelect(x, 0, tensor([x.shape[0] - 1, 0, x.shape[0] - 1], { dtype: 'int32' }))],
  ['cat and stack with itself', (x) => [cat([x, x], -1), stack([x, x], 0)]],
  ['contiguous, clone, reshape', (x) => [x.contiguous(), x.clone(), x.reshape(-1)]],
  ['tril', (x) => (x.ndim >= 2 ? tril(x, -1) : x)],
];

/** An int32 index of shape [...lead, 2] picking the last, then the first entry of each row. */
function lastThenFirst(s: readonly number[]): Tensor {
  const rows = s.slice(0, -1).reduce((a, b) => a * b, 1);
  const ids = Array.from({ length: 2 * rows }, (_, i) => (i % 2 === 0 ? s.at(-1)! - 1 : 0));
  return tensor(ids, { dtype: 'int32', shape: [...s.slice(0, -1), 2] });
}

const values = (t: Tensor | Tensor[]): { shape: number[]; dtype: string; data: number[] }[] =>
  (Array.isArray(t) ? t : [t]).map((y) => ({ shape: [...y.shape], dtype: y.dtype, data: Array.from(y.data() as ArrayLike<number>) }));

describe('kernels read strided views as they read contiguous copies', () => {
  for (const [name, op] of OPS) {
    it(name, () => {
      fc.assert(
        fc.property(stridedView(), ({ view, how }) => {
          const copy = view.contiguous();
          expect(copy.storage, how).not.toBe(view.storage);
          expect(values(op(view)), `${name} of ${how}`).toEqual(values(op(copy)));
        }),
        { numRuns: 25, seed: 11 },
      );
    });
  }
});

/** Ops whose backward kernels (sliceScatter, indexAdd, scatterAdd, sum's expand, softmax's) read gOut. */
const BACKWARDS: [string, (x: Tensor) => Tensor][] = [
  ['slice (sliceScatter)', (x) => x.slice(0, 1, undefined, 2)],
  ['indexSelect (indexAdd)', (x) => indexSelect(x, 0, tensor([0, 0, x.shape[0] - 1], { dtype: 'int32' }))],
  ['gather (scatterAdd)', (x) => gather(x, -1, lastThenFirst(x.shape))],
  ['softmax', (x) => softmax(x, -1)],
  ['matmul', (x) => (x.ndim >= 2 ? matmul(x.mT, x) : mul(x, x))],
  ['exp', exp],
];

describe('backward kernels read a strided gradient as they read a contiguous one', () => {
  for (const [name, op] of BACKWARDS) {
    it(name, () => {
      fc.assert(
        fc.property(stridedView(), ({ view, how }) => {
          // the view's values serve as the input; a strided view of the same shape as the output is gOut
          const gradOf = (gOut: (y: Tensor) => Tensor): number[] => {
            const x = view.contiguous().requiresGrad_();
            const y = op(x);
            y.backward(gOut(y));
            return Array.from(x.grad!.data());
          };
          const stridedGrad = (y: Tensor): Tensor => {
            const g = cast(tensor(Array.from({ length: y.size }, (_, i) => (i % 7) - 3)), y.dtype).reshape([...y.shape].reverse());
            return g.permute(y.shape.map((_, i) => y.ndim - 1 - i)); // a transposed view, not contiguous
          };
          expect(gradOf(stridedGrad), `${name} of ${how}`).toEqual(gradOf((y) => stridedGrad(y).contiguous()));
        }),
        { numRuns: 20, seed: 13 },
      );
    });
  }
});
