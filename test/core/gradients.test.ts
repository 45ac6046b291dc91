// Every differentiable op against central finite differences in float64, driven by one op table
// and fast-check shapes (size-1 dims, square trailing dims); then a few second-order checks.
import { describe, expect, it } from 'vitest';
import fc, { type Arbitrary } from 'fast-check';
import {
  type Tensor, type GradcheckOptions, findGradMismatch, add, sub, mul, div, neg, pow, exp, log, sqrt, abs, tanh,
  sigmoid, relu, sin, cos, maximum, minimum, where, maskedFill, sum, mean, max, min, reshape, view, permute,
  transpose, unsqueeze, squeeze, expand, slice, split, chunk, cat, stack, contiguous, clone, matmul, outer, einsum,
  gather, indexSelect, softmax, logSoftmax, tril, triu, cast, square, flatten, defineOp, tensor,
  ELEMENTWISE_OPS, UNARY_OPS, BINARY_OPS, type Domain,
} from '@wedge/core';
import {
  shape, broadcastPair, broadcastShapesOf, broadcastableTo, matmulPair, tensorOf, tensorsOf, positiveTensor,
  nonZeroTensor, distinctTensor, distinctTensors, indexTensor, axes, axis, reshapeOf,
} from '@wedge/core/testing';
import { findSecondOrderMismatch } from '../helpers/second_order.ts';

/** Tensors drawn for one run, and the non-tensor arguments (dims, sizes) drawn with them. */
interface Drawn<A> {
  xs: Tensor[];
  args: A;
}

/** One row of the table: what to draw, and the function of the drawn tensors to check. */
interface GradCase {
  name: string;
  draw: Arbitrary<Drawn<any>>;
  fn: (args: any, ...xs: Tensor[]) => Tensor;
  opts?: GradcheckOptions;
}

const NUM_RUNS = 12;
const G = { dtype: 'float64', requiresGrad: true } as const;
const S = { maxRank: 3, maxDim: 4 } as const;
const S1 = { minRank: 1, ...S } as const;
const S2 = { minRank: 2, ...S } as const;

const gc = <A>(name: string, draw: Arbitrary<Drawn<A>>, fn: (args: A, ...xs: Tensor[]) => Tensor, opts?: GradcheckOptions): GradCase =>
  ({ name, draw, fn, opts });

/** A case without drawn arguments. */
const plain = (name: string, xs: Arbitrary<Tensor[]>, fn: (...xs: Tensor[]) => Tensor, opts?: GradcheckOptions): GradCase =>
  gc(name, xs.map((ys) => ({ xs: ys, args: {} })), (_, ...ys) => fn(...ys), opts);

/** One tensor of a drawn shape, with arguments drawn for that shape. */
const shaped = <A>(shapes: Arbitrary<number[]>, args: (s: number[]) => Arbitrary<A>, values = (s: number[]) => tensorOf(s, G)): Arbitrary<Drawn<A>> =>
  shapes.chain((s) => fc.record({ xs: values(s).map((x) => [x]), args: args(s) }));

const unaryCase = (name: string, f: (x: Tensor) => Tensor, arb: Arbitrary<Tensor> = tensorOf(shape(S), G)): GradCase =>
  plain(name, arb.map((x) => [x]), f);

const binaryCase = (name: string, f: (a: Tensor, b: Tensor) => Tensor, make: (s: number[][]) => Arbitrary<Tensor[]> = (s) => tensorsOf(s, G)): GradCase =>
  plain(name, broadcastPair(S).chain((shapes) => make(shapes)), (a, b) => f(a, b));

/** One drawn axis of the tensor. */
const withAxis = (values?: (s: number[]) => Arbitrary<Tensor>) => shaped(shape(S1), (s) => fc.record({ dim: axis(s.length) }), values);

/** Drawn reduction axes (undefined = all) and keepdim. */
const withAxes = (values?: (s: number[]) => Arbitrary<Tensor>) =>
  shaped(shape(S), (s) => fc.record({ dims: axes(s.length), keepdim: fc.boolean() }), values);

const distinct = (s: number[]) => distinctTensor(s, G);

/** Tensors (of a shape or drawn shapes) with values in an op's domain, from the op table. */
const valuesIn = (d: Domain) => (s: number[] | Arbitrary<number[]>): Arbitrary<Tensor> =>
  d.distinct
    ? distinctTensor(s, G)
    : d.awayFromZero !== undefined
      ? nonZeroTensor(s, { ...G, min: d.awayFromZero, max: d.max })
      : d.min !== undefined && d.min > 0
        ? positiveTensor(s, { ...G, min: d.min, max: d.max })
        : tensorOf(s, { ...G, min: d.min, max: d.max });

const CASES: GradCase[] = [
  // ---- elementwise: one case per op of the table, drawn from its domain -----------------------------
  ...UNARY_OPS.map((name) => unaryCase(name, ELEMENTWISE_OPS[name].fn as (x: Tensor) => Tensor, valuesIn(ELEMENTWISE_OPS[name].domain[0])(shape(S)))),
  ...BINARY_OPS.map((name) => {
    const [da, db] = ELEMENTWISE_OPS[name].domain;
    const fn = ELEMENTWISE_OPS[name].fn as (a: Tensor, b: Tensor) => Tensor;
    return binaryCase(name, fn, ([a, b]) => (da.distinct || db.distinct ? distinctTensors([a, b], G) : fc.tuple(valuesIn(da)(a), valuesIn(db)(b))));
  }),
  unaryCase('square', square),
  gc('pow(tensor, integer scalar)', shaped(shape(S), () => fc.record({ p: fc.constantFrom(2, 3, -1, 0) }), (s) => nonZeroTensor(s, G)), ({ p }, x) => pow(x, p)),
  gc(
    'pow(tensor, real scalar)',
    shaped(shape(S), () => fc.record({ p: fc.double({ min: -2, max: 2, noNaN: true }) }), (s) => positiveTensor(s, { ...G, min: 0.3 })),
    ({ p }, x) => pow(x, p),
  ),
  unaryCase('pow(scalar, tensor)', (x) => pow(1.7, x)),
  plain(
    'where',
    broadcastShapesOf(3, S).chain(([c, a, b]) => fc.tuple(tensorOf(c, { dtype: 'bool' }), tensorOf(a, G), tensorOf(b, G))),
    (c, a, b) => where(c, a, b),
  ),
  plain(
    'where (scalar branch)',
    broadcastPair(S).chain(([c, a]) => fc.tuple(tensorOf(c, { dtype: 'bool' }), tensorOf(a, G))),
    (c, a) => where(c, 0.5, a),
  ),
  plain(
    'maskedFill',
    shape(S).chain((s) => fc.tuple(tensorOf(s, G), tensorOf(broadcastableTo(s), { dtype: 'bool' }))),
    (x, mask) => maskedFill(x, mask, -3),
  ),
  // NOTE: float32 rounding (relative 6e-8) needs a wide step: eps 1e-3 keeps its error near 1e-4.
  plain('cast (float64 → float32 → float64)', tensorOf(shape(S), G).map((x) => [x]), (x) => cast(cast(x, 'float32'), 'float64').mul(x), {
    eps: 1e-3,
    atol: 1e-3,
    rtol: 1e-2,
  }),

  // ---- reductions ---------------------------------------------------------------------------------
  gc('sum', withAxes(), ({ dims, keepdim }, x) => sum(x, dims, keepdim)),
  gc('mean', withAxes(), ({ dims, keepdim }, x) => mean(x, dims, keepdim)),
  gc('max (no ties)', withAxes(distinct), ({ dims, keepdim }, x) => max(x, dims, keepdim)),
  gc('min (no ties)', withAxes(distinct), ({ dims, keepdim }, x) => min(x, dims, keepdim)),
  gc('softmax', withAxis(), ({ dim }, x) => softmax(x, dim)),
  gc('logSoftmax', withAxis(), ({ dim }, x) => logSoftmax(x, dim)),
  unaryCase('softmax (0-d)', (x) => softmax(x, 0).mul(x), tensorOf([], G)),

  // ---- movement -----------------------------------------------------------------------------------
  gc('reshape', shaped(shape(S), (s) => fc.record({ to: reshapeOf(s) })), ({ to }, x) => reshape(x, to)),
  gc(
    'reshape (of a transposed view: copies)',
    shaped(shape(S2), (s) => fc.record({ to: reshapeOf(swapEnds(s)) })),
    ({ to }, x) => reshape(transpose(x, 0, -1), to),
  ),
  gc('view', shaped(shape(S), (s) => fc.record({ to: reshapeOf(s) })), ({ to }, x) => view(x, to)),
  gc('flatten', withAxis(), ({ dim }, x) => flatten(x, dim)),
  gc(
    'permute',
    // ranks 3 and 4 draw permutations that are not their own inverse (a transpose is)
    shaped(shape({ minRank: 3, maxRank: 4, maxDim: 3 }), (s) => fc.record({ dims: fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }) })),
    ({ dims }, x) => permute(x, dims),
  ),
  gc('transpose', shaped(shape(S1), (s) => fc.record({ d0: axis(s.length), d1: axis(s.length) })), ({ d0, d1 }, x) => transpose(x, d0, d1)),
  gc('unsqueeze', shaped(shape(S), (s) => fc.record({ dim: fc.integer({ min: -s.length - 1, max: s.length }) })), ({ dim }, x) => unsqueeze(x, dim)),
  gc('squeeze', shaped(shape(S1), (s) => fc.record({ dim: fc.option(axis(s.length), { nil: undefined }) })), ({ dim }, x) => squeeze(x, dim)),
  gc(
    'expand',
    shape(S).chain((full) => broadcastableTo(full).chain((small) => fc.record({ xs: tensorOf(small, G).map((x) => [x]), args: fc.constant({ to: full }) }))),
    ({ to }, x) => expand(x, to),
  ),
  gc(
    'slice (with step)',
    shaped(shape(S1), (s) =>
      fc.record({
        dim: axis(s.length),
        start: fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }),
        end: fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }),
        step: fc.integer({ min: 1, max: 3 }),
      }),
    ),
    ({ dim, start, end, step }, x) => slice(x, dim, start, end, step),
  ),
  gc(
    'slice of a slice (strided view of a strided view)',
    shaped(shape({ minRank: 1, maxRank: 2, maxDim: 7 }), () => fc.record({ step: fc.integer({ min: 1, max: 3 }) })),
    ({ step }, x) => slice(slice(x, -1, 1, undefined, step), -1, 0, undefined, 2).mul(3),
  ),
  gc(
    'split (by size)',
    shaped(shape({ minRank: 1, maxRank: 3, maxDim: 6 }), (s) => fc.record({ dim: axis(s.length), size: fc.integer({ min: 1, max: 4 }) })),
    ({ dim, size }, x) => weightedCat(split(x, size, dim), dim),
  ),
  gc(
    'split (by sections)',
    shaped(shape({ minRank: 1, maxRank: 3, maxDim: 6 }), (s) =>
      axis(s.length).chain((dim) => fc.record({ dim: fc.constant(dim), sections: sectionsOf(s.at(dim)!) })),
    ),
    ({ dim, sections }, x) => weightedCat(split(x, sections, dim), dim),
  ),
  gc(
    'chunk',
    shaped(shape({ minRank: 1, maxRank: 3, maxDim: 6 }), (s) => fc.record({ dim: axis(s.length), chunks: fc.integer({ min: 1, max: 4 }) })),
    ({ dim, chunks }, x) => weightedCat(chunk(x, chunks, dim), dim),
  ),
  gc(
    'cat',
    shape(S1).chain((s) =>
      fc.tuple(axis(s.length), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })).chain(([dim, sizes]) => {
        const shapes = sizes.map((n) => s.map((d, i) => (i === (dim + s.length) % s.length ? n : d)));
        return fc.record({ xs: tensorsOf(shapes, G), args: fc.constant({ dim }) });
      }),
    ),
    ({ dim }, ...xs) => cat(xs, dim),
  ),
  gc(
    'stack',
    shape(S).chain((s) =>
      fc.record({
        xs: fc.integer({ min: 1, max: 3 }).chain((n) => tensorsOf(Array.from({ length: n }, () => s), G)),
        args: fc.record({ dim: fc.integer({ min: -s.length - 1, max: s.length }) }),
      }),
    ),
    ({ dim }, ...xs) => stack(xs, dim),
  ),
  unaryCase('contiguous (of a transposed view)', (x) => contiguous(transpose(x, 0, -1)).mul(2), tensorOf(shape(S2), G)),
  unaryCase('clone', (x) => clone(x).mul(x)),

  // ---- linear algebra -----------------------------------------------------------------------------
  plain('matmul (all forms, broadcast batch)', matmulPair().chain((shapes) => tensorsOf(shapes, G)), matmul),
  plain(
    'matmul (a @ bᵀ and aᵀ @ b: transposed operands read through strides)',
    matmulPair()
      .filter(([a, b]) => a.length >= 2 && b.length >= 2)
      .chain(([a, b]) => tensorsOf([swapLast(a), swapLast(b)], G)),
    (at, bt) => matmul(at.mT, bt.mT),
  ),
  unaryCase('matmul (same operand twice: x @ xᵀ)', (x) => matmul(x, x.mT), tensorOf(shape(S2), G)),
  plain('outer', fc.tuple(shape({ minRank: 1, maxRank: 1 }), shape({ minRank: 1, maxRank: 1 })).chain((s) => tensorsOf(s, G)), outer),
  ...einsumCases(),

  // ---- indexing -----------------------------------------------------------------------------------
  gc(
    'gather',
    shape(S1).chain((s) =>
      axis(s.length).chain((dim) => {
        const d = (dim + s.length) % s.length;
        const indexShape = fc.tuple(...s.map((n, i) => fc.integer({ min: 1, max: i === d ? 5 : n })));
        return fc.record({ xs: fc.tuple(tensorOf(s, G), indexTensor(indexShape, s[d])), args: fc.constant({ dim }) });
      }),
    ),
    ({ dim }, x, index) => gather(x, dim, index),
  ),
  gc(
    'indexSelect (with repeated ids)',
    shape(S1).chain((s) =>
      axis(s.length).chain((dim) =>
        fc.record({ xs: fc.tuple(tensorOf(s, G), indexTensor(shape({ minRank: 1, maxRank: 1, maxDim: 6 }), s.at(dim)!)), args: fc.constant({ dim }) }),
      ),
    ),
    ({ dim }, x, index) => indexSelect(x, dim, index),
  ),
  gc('tril', shaped(shape(S2), () => fc.record({ k: fc.integer({ min: -2, max: 2 }) })), ({ k }, x) => tril(x, k)),
  gc('triu', shaped(shape(S2), () => fc.record({ k: fc.integer({ min: -2, max: 2 }) })), ({ k }, x) => triu(x, k)),

  // ---- composites, as models use them -------------------------------------------------------------
  plain(
    'attention (softmax(q kᵀ / √d) v, square T × T scores)',
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).chain(([t, d]) => tensorsOf([[2, t, d], [2, t, d], [2, t, d]], G)),
    (q, k, v) => matmul(softmax(matmul(q, k.mT).div(Math.sqrt(q.shape[2])), -1), v),
  ),
];

/** fast-check's settings for the table; shrinking is capped so that a failure reports in seconds. */
const PROPERTY_OPTIONS = { numRuns: NUM_RUNS, seed: 20_261_127, includeErrorInReport: true };
const MAX_SHRINKS = 40;

/** The property behind one row: analytic gradients agree with finite differences at the drawn inputs. */
function gradProperty(c: GradCase) {
  return fc.property(fc.limitShrink(c.draw, MAX_SHRINKS), ({ xs, args }) => {
    const mismatch = findGradMismatch((...ys) => c.fn(args, ...ys), xs, c.opts);
    if (mismatch) {
      const { input, index, numeric, analytic } = mismatch;
      throw new Error(
        `input ${input} ${JSON.stringify(xs[input].shape)} at [${index}]: numeric ${numeric}, analytic ${analytic} ` +
          `(inputs ${xs.map((x) => JSON.stringify(x.shape)).join(', ')}; args ${JSON.stringify(args)})`,
      );
    }
  });
}

/** Gradients of split/chunk pieces must land in their own positions: weight piece i by i + 1. */
function weightedCat(pieces: Tensor[], dim: number): Tensor {
  return cat(pieces.map((p, i) => p.mul(i + 1)), dim);
}

/** Non-negative sizes summing to n (zero-size sections included). */
function sectionsOf(n: number): Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: n }), { minLength: 0, maxLength: 3 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), n];
    return points.slice(1).map((p, i) => p - points[i]);
  });
}

const swapLast = (s: number[]): number[] => [...s.slice(0, -2), s.at(-1)!, s.at(-2)!];
const swapEnds = (s: number[]): number[] => [s.at(-1)!, ...s.slice(1, -1), s[0]];

function einsumCases(): GradCase[] {
  const size = fc.integer({ min: 1, max: 4 });
  const eqs: [string, (n: Record<string, number>) => number[][]][] = [
    ['i,j->ij', (n) => [[n.i], [n.j]]],
    ['bij,bjk->bik', (n) => [[n.b, n.i, n.j], [n.b, n.j, n.k]]],
    ['ij->j', (n) => [[n.i, n.j]]],
    ['ij->ji', (n) => [[n.i, n.j]]],
    ['ij,ij->', (n) => [[n.i, n.j], [n.i, n.j]]],
    ['ij,jk', (n) => [[n.i, n.j], [n.j, n.k]]],
  ];
  return eqs.map(([eq, shapes]) => ({
    name: `einsum '${eq}'`,
    draw: fc.record({ b: size, i: size, j: size, k: size }).chain((n) => tensorsOf(shapes(n), G).map((xs) => ({ xs, args: {} }))),
    fn: (_: unknown, ...xs: Tensor[]) => einsum(eq, ...xs),
  }));
}

describe('gradients match central finite differences (float64)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      fc.assert(gradProperty(c), PROPERTY_OPTIONS);
    });
  }

  it('catches a wrong gradient (the checker can fail)', () => {
    // softmax whose backward sums over the last dim whatever `dim` was: right only for dim = -1
    const wrong = defineOp<{ dim: number }>({
      name: 'wrongSoftmax',
      inputs: ['x'],
      forward: ([x], { dim }) => softmax(x.detach(), dim),
      backward: (gOut, { out }) => ({ x: () => out.mul(gOut.sub(gOut.mul(out).sum(-1, true))) }),
    });
    const broken = gc('wrong softmax', withAxis(), ({ dim }, x) => wrong([x], { dim }));
    expect(() => fc.assert(gradProperty(broken), PROPERTY_OPTIONS)).toThrow(/numeric .* analytic/);
  });

  it('covers every differentiable op of the core', () => {
    const required = [
      ...UNARY_OPS, ...BINARY_OPS, 'pow(tensor, real scalar)', 'where', 'maskedFill', 'sum', 'mean', 'max (no ties)',
      'min (no ties)', 'reshape', 'view', 'permute', 'transpose', 'unsqueeze', 'squeeze', 'expand', 'slice (with step)',
      'split (by size)', 'chunk', 'cat', 'stack', 'contiguous (of a transposed view)', 'clone',
      'matmul (all forms, broadcast batch)', 'outer', "einsum 'i,j->ij'", 'gather', 'indexSelect (with repeated ids)',
      'softmax', 'logSoftmax', 'tril', 'triu', 'cast (float64 → float32 → float64)',
    ];
    const names = new Set(CASES.map((c) => c.name));
    expect(required.filter((r) => !names.has(r))).toEqual([]);
  });
});

/** Second-order cases: f, and the inputs at which H·v is checked. */
const SECOND_ORDER: [string, Arbitrary<Tensor[]>, (...xs: Tensor[]) => Tensor][] = [
  ['mul (x · y · x)', broadcastPair(S).chain((s) => tensorsOf(s, G)), (x, y) => x.mul(y).mul(x)],
  ['div', broadcastPair(S).chain(([a, b]) => fc.tuple(tensorOf(a, G), nonZeroTensor(b, { ...G, min: 0.5 }))), div],
  ['pow (tensor exponent)', broadcastPair(S).chain(([a, b]) => fc.tuple(positiveTensor(a, { ...G, min: 0.5 }), tensorOf(b, G))), pow],
  ['exp', tensorOf(shape(S), G).map((x) => [x]), exp],
  ['log', positiveTensor(shape(S), { ...G, min: 0.5 }).map((x) => [x]), log],
  ['tanh', tensorOf(shape(S), G).map((x) => [x]), tanh],
  ['sigmoid', tensorOf(shape(S), G).map((x) => [x]), sigmoid],
  ['sin', tensorOf(shape(S), G).map((x) => [x]), sin],
  ['sqrt', positiveTensor(shape(S), { ...G, min: 0.5 }).map((x) => [x]), sqrt],
  ['softmax', tensorOf(shape(S1), G).map((x) => [x]), (x) => softmax(x, -1)],
  ['logSoftmax', tensorOf(shape(S1), G).map((x) => [x]), (x) => logSoftmax(x, 0)],
  ['matmul (a · b, then a quadratic form)', matmulPair().chain((s) => tensorsOf(s, G)), (a, b) => matmul(a, b).square()],
  ['indexSelect (its backward is indexAdd)', tensorOf([4, 3], G).chain((x) => indexTensor([5], 4).map((i) => [x, i])), (x, i) => indexSelect(x, 0, i).square()],
  ['gather (its backward is scatterAdd)', tensorOf([3, 4], G).chain((x) => indexTensor([3, 5], 4).map((i) => [x, i])), (x, i) => gather(x, 1, i).pow(3)],
  ['slice with step then cat', tensorOf([2, 6], G).map((x) => [x]), (x) => cat([slice(x, 1, 0, undefined, 2).square(), x.exp()], 1)],
  ['max (no ties: second derivative of the picked values)', distinctTensor(shape(S1), G).map((x) => [x]), (x) => max(x, -1).square()],
];

describe('second-order gradients (backward with createGraph) match finite differences of first gradients', () => {
  for (const [name, draw, f] of SECOND_ORDER) {
    it(name, () => {
      fc.assert(
        fc.property(fc.limitShrink(draw, MAX_SHRINKS), (xs) => {
          const mismatch = findSecondOrderMismatch(f, xs);
          if (mismatch) throw new Error(`${JSON.stringify(mismatch)} (inputs ${xs.map((x) => JSON.stringify(x.shape)).join(', ')})`);
        }),
        { ...PROPERTY_OPTIONS, numRuns: 6 },
      );
    });
  }

  it('catches a backward that is right once but not differentiable (the checker can fail)', () => {
    // exp whose backward uses a detached output: first derivative right, second derivative lost
    const flat = defineOp<void>({
      name: 'flatExp',
      inputs: ['x'],
      forward: ([x]) => exp(x.detach()),
      backward: (gOut, { out }) => ({ x: () => gOut.mul(out.detach()) }),
    });
    const x = tensor([0.5, -1, 2], { dtype: 'float64' });
    expect(findGradMismatch((y) => flat([y], undefined), [x.requiresGrad_()])).toBeNull();
    expect(findSecondOrderMismatch((y) => flat([y], undefined), [x])).not.toBeNull();
  });
});
