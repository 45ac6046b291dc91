/**
 * fast-check arbitraries for property tests of tensor code (fast-check is a peer dependency).
 * @module @wedge/core/testing
 */
// @wedge/core/testing: fast-check arbitraries for property tests of tensor code (shapes that
// broadcast, matmul-compatible pairs, bounded or tie-free tensors). fast-check is a peer dependency.
import fc, { type Arbitrary } from 'fast-check';
import { type DType, isFloat } from './dtype.ts';
import { WedgeError } from './errors.ts';
import { sizeOf } from './shape.ts';
import { Tensor } from './tensor.ts';
import { tensor } from './creation.ts';

/**
 * Bounds of the shapes shape() draws: ranks and dim sizes.
 * @example
 * fc.assert(fc.property(shape({ minRank: 1, maxDim: 5 }), (s) => s.length >= 1));
 */
export interface ShapeOptions {
  /** Fewest dims (default 0: scalars included). */
  minRank?: number;
  /** Most dims (default 3). */
  maxRank?: number;
  /** Smallest size of a dim (default 1; 0 allows empty tensors). */
  minDim?: number;
  /** Largest size of a dim (default 4). */
  maxDim?: number;
}

/** A dim size: size 1 about a quarter of the time (broadcasting and squeeze bugs live there). */
function dimSize(minDim: number, maxDim: number): Arbitrary<number> {
  const lo = Math.max(minDim, 2);
  const wide = lo <= maxDim ? fc.integer({ min: lo, max: maxDim }) : null;
  const small = fc.integer({ min: Math.min(minDim, 1), max: Math.min(maxDim, 1) });
  if (minDim > 1 || !wide) return wide ?? small;
  return fc.oneof({ arbitrary: small, weight: 1 }, { arbitrary: wide, weight: 3 });
}

/**
 * Tensor shapes. Dims of size 1 are drawn often, and about a third of the shapes with two or more
 * dims get equal (square) last two dims: a peer library computed wrong softmax and sum gradients
 * exactly when the last two dims are equal, so square trailing dims are worth the extra runs.
 * @example fc.assert(fc.property(shape({ minRank: 1 }), (s) => zeros(s).size === sizeOf(s)))
 */
export function shape(opts: ShapeOptions = {}): Arbitrary<number[]> {
  const { minRank = 0, maxRank = 3, minDim = 1, maxDim = 4 } = opts;
  if (minRank < 0 || maxRank < minRank || minDim < 0 || maxDim < Math.max(minDim, 1)) {
    throw new WedgeError(`shape: invalid options ${JSON.stringify(opts)}`);
  }
  return fc
    .tuple(fc.array(dimSize(minDim, maxDim), { minLength: minRank, maxLength: maxRank }), fc.integer({ min: 0, max: 2 }))
    .map(([dims, square]) => {
      if (square === 0 && dims.length >= 2) dims[dims.length - 1] = dims[dims.length - 2];
      return dims;
    });
}

/**
 * A shape that broadcasts to `full`: some leading dims dropped, some others replaced by 1.
 * @example broadcastableTo([2, 3, 4]) // e.g. [3, 1], [1, 3, 4], [4], []
 */
export function broadcastableTo(full: readonly number[]): Arbitrary<number[]> {
  return fc
    .tuple(fc.integer({ min: 0, max: full.length }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: full.length, maxLength: full.length }))
    .map(([drop, ones]) => full.slice(drop).map((d, i) => (ones[i + drop] === 0 ? 1 : d)));
}

/**
 * `n` shapes that broadcast together (each derived from one common shape).
 * @example broadcastShapesOf(3) // condition, a and b of where()
 */
export function broadcastShapesOf(n: number, opts: ShapeOptions = {}): Arbitrary<number[][]> {
  return shape(opts).chain((full) => fc.tuple(...Array.from({ length: n }, () => broadcastableTo(full))));
}

/**
 * Two shapes that broadcast with each other, e.g. [2, 1, 4] and [3, 1].
 * @example fc.property(broadcastPair(), ([a, b]) => add(zeros(a), zeros(b)).ndim === Math.max(a.length, b.length))
 */
export function broadcastPair(opts: ShapeOptions = {}): Arbitrary<[number[], number[]]> {
  return broadcastShapesOf(2, opts) as Arbitrary<[number[], number[]]>;
}

/**
 * Bounds of the operand shape pairs matmulPair() draws: largest dim size and batch rank.
 * @example
 * fc.assert(fc.property(matmulPair({ maxDim: 4, maxBatchRank: 1 }), ([a, b]) => a.length >= 1 && b.length >= 1));
 */
export interface MatmulPairOptions {
  /** Largest M, K and N (default 4). */
  maxDim?: number;
  /** Most batch dims on either side (default 2); batch dims broadcast against each other. */
  maxBatchRank?: number;
}

/**
 * Shapes valid for matmul under PyTorch's rules: vector·vector, vector·matrix, matrix·vector, and
 * (batched) matrix products whose batch dims broadcast. M = K = N about a third of the time.
 * @example fc.property(matmulPair(), ([a, b]) => matmul(zeros(a), zeros(b)) instanceof Tensor)
 */
export function matmulPair(opts: MatmulPairOptions = {}): Arbitrary<[number[], number[]]> {
  const { maxDim = 4, maxBatchRank = 2 } = opts;
  const size = fc.integer({ min: 1, max: maxDim });
  return fc
    .record({
      form: fc.constantFrom('vv', 'vm', 'mv', 'mm', 'mm', 'mm'),
      m: size,
      k: size,
      n: size,
      square: fc.integer({ min: 0, max: 2 }),
      batch: broadcastPair({ minRank: 0, maxRank: maxBatchRank, maxDim: 3 }),
    })
    .map(({ form, m, k, n, square, batch: [ba, bb] }): [number[], number[]] => {
      if (square === 0) m = n = k;
      switch (form) {
        case 'vv': return [[k], [k]];
        case 'vm': return [[k], [...bb, k, n]];
        case 'mv': return [[...ba, m, k], [k]];
        default: return [[...ba, m, k], [...bb, k, n]];
      }
    });
}

/**
 * What fast-check tensors are drawn from (not the TensorOptions of tensor() and zeros()).
 * @example
 * tensorOf([2, 3], { min: -1, max: 1, dtype: 'float64' })
 */
export interface ValueOptions {
  /** Smallest value (default -2). */
  min?: number;
  /** Largest value (default 2). */
  max?: number;
  /** Default float64, the dtype gradcheck needs. */
  dtype?: DType;
  requiresGrad?: boolean;
}

/**
 * Make generated tensors safe to reuse: fast-check clones a value that has `fc.cloneMethod`
 * before each use, so a test that mutates a tensor (its grad, an optimizer step) cannot leak
 * into the next run or a shrink.
 */
function cloneable(t: Tensor, make: () => Tensor): Tensor {
  Object.defineProperty(t, fc.cloneMethod, { value: () => cloneable(make(), make), enumerable: false });
  return t;
}

function fromValues(values: readonly number[] | readonly boolean[], shape: readonly number[], dtype: DType, requiresGrad: boolean): Tensor {
  const make = (): Tensor => tensor(values as number[], { shape, dtype, requiresGrad: requiresGrad && isFloat(dtype) });
  return cloneable(make(), make);
}

function valueArb(dtype: DType, min: number, max: number): Arbitrary<number> | Arbitrary<boolean> {
  switch (dtype) {
    case 'bool': return fc.boolean();
    case 'int32': return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    case 'float32': return fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true });
    case 'float64': return fc.double({ min, max, noNaN: true });
  }
}

/**
 * Tensors of a fixed shape (or of shapes drawn from an arbitrary) with values in [min, max].
 * @example fc.property(tensorOf([2, 3], { min: 0.1, max: 3 }), (x) => x.log().size === 6)
 */
export function tensorOf(shapeOrArb: readonly number[] | Arbitrary<number[]>, opts: ValueOptions = {}): Arbitrary<Tensor> {
  if (!Array.isArray(shapeOrArb)) return (shapeOrArb as Arbitrary<number[]>).chain((s) => tensorOf(s, opts));
  const s = [...(shapeOrArb as readonly number[])];
  const { min = -2, max = 2, dtype = 'float64', requiresGrad = false } = opts;
  if (!(min <= max)) throw new WedgeError(`tensorOf: min ${min} exceeds max ${max}`);
  const n = sizeOf(s);
  const values = fc.array(valueArb(dtype, min, max) as Arbitrary<number>, { minLength: n, maxLength: n });
  return values.map((v) => fromValues(v, s, dtype, requiresGrad));
}

/**
 * Several tensors, one per shape, with the same options.
 * @example broadcastPair().chain((shapes) => tensorsOf(shapes, { requiresGrad: true }))
 */
export function tensorsOf(shapes: readonly (readonly number[])[], opts: ValueOptions = {}): Arbitrary<Tensor[]> {
  return fc.tuple(...shapes.map((s) => tensorOf(s, opts)));
}

/**
 * Tensors with values in [min, max], min > 0 (default [0.1, 3]): inputs of log, sqrt, pow.
 * @example fc.property(positiveTensor(shape()), (x) => gradcheck((t) => t.log(), [x.requiresGrad_()]))
 */
export function positiveTensor(shapeOrArb: readonly number[] | Arbitrary<number[]>, opts: ValueOptions = {}): Arbitrary<Tensor> {
  const { min = 0.1, max = 3 } = opts;
  if (!(min > 0)) throw new WedgeError(`positiveTensor: min must be > 0, got ${min}`);
  return tensorOf(shapeOrArb, { ...opts, min, max });
}

/**
 * Tensors whose values are at least `min` (default 0.25) away from 0, either sign, up to `max` in
 * magnitude: inputs where abs, relu and division have no kink or pole nearby.
 * @example nonZeroTensor([3, 4], { min: 0.5 }) // denominators for div
 */
export function nonZeroTensor(shapeOrArb: readonly number[] | Arbitrary<number[]>, opts: ValueOptions = {}): Arbitrary<Tensor> {
  if (!Array.isArray(shapeOrArb)) return (shapeOrArb as Arbitrary<number[]>).chain((s) => nonZeroTensor(s, opts));
  const s = [...(shapeOrArb as readonly number[])];
  const { min = 0.25, max = 2, dtype = 'float64', requiresGrad = false } = opts;
  if (!(min > 0 && max >= min) || !isFloat(dtype)) {
    throw new WedgeError(`nonZeroTensor: needs 0 < min <= max and a float dtype, got min ${min}, max ${max}, ${dtype}`);
  }
  const n = sizeOf(s);
  const magnitude = valueArb(dtype, min, max) as Arbitrary<number>;
  const signed = fc.tuple(magnitude, fc.boolean()).map(([m, negative]) => (negative ? -m : m));
  return fc.array(signed, { minLength: n, maxLength: n }).map((v) => fromValues(v, s, dtype, requiresGrad));
}

/**
 * Tensors, one per shape, whose values are all different from each other (across all of them) by at
 * least (max − min) / (8 · total size): no ties for max/min/maximum/argmax, and no two values
 * closer than a finite-difference step.
 * @example distinctTensors([[3, 4], [4]]) // a and b for maximum(a, b) without ties
 */
export function distinctTensors(shapes: readonly (readonly number[])[], opts: ValueOptions = {}): Arbitrary<Tensor[]> {
  const { min = -2, max = 2, dtype = 'float64', requiresGrad = false } = opts;
  if (!isFloat(dtype) || !(min < max)) {
    throw new WedgeError(`distinctTensors: needs min < max and a float dtype, got min ${min}, max ${max}, ${dtype}`);
  }
  const sizes = shapes.map(sizeOf);
  const total = sizes.reduce((a, b) => a + b, 0);
  const slots = 8 * Math.max(total, 1);
  return fc.uniqueArray(fc.integer({ min: 0, max: slots }), { minLength: total, maxLength: total }).map((ids) => {
    let at = 0;
    return shapes.map((s, i) => {
      const values = ids.slice(at, at + sizes[i]).map((k) => min + ((max - min) * k) / slots);
      at += sizes[i];
      return fromValues(values, s, dtype, requiresGrad);
    });
  });
}

/**
 * One tensor with all values distinct; see distinctTensors.
 * @example distinctTensor(shape({ minRank: 1 }), { requiresGrad: true }) // max(x, -1) has no ties
 */
export function distinctTensor(shapeOrArb: readonly number[] | Arbitrary<number[]>, opts: ValueOptions = {}): Arbitrary<Tensor> {
  if (!Array.isArray(shapeOrArb)) return (shapeOrArb as Arbitrary<number[]>).chain((s) => distinctTensor(s, opts));
  return distinctTensors([shapeOrArb as readonly number[]], opts).map(([t]) => t);
}

/**
 * int32 tensors with values in [0, high): indices for gather, indexSelect and embedding lookups.
 * @example indexTensor([5], 10)
 */
export function indexTensor(shapeOrArb: readonly number[] | Arbitrary<number[]>, high: number): Arbitrary<Tensor> {
  if (!Number.isInteger(high) || high < 1) throw new WedgeError(`indexTensor: high must be a positive integer, got ${high}`);
  return tensorOf(shapeOrArb, { dtype: 'int32', min: 0, max: high - 1 });
}

/**
 * Axes to reduce over for a tensor of rank `rank`: undefined (all), one axis, or several, with
 * negative spellings mixed in (e.g. -1 for the last).
 * @example fc.property(shape().chain((s) => fc.tuple(fc.constant(s), axes(s.length))), ...)
 */
export function axes(rank: number): Arbitrary<number | number[] | undefined> {
  if (rank === 0) return fc.constantFrom<(number | number[] | undefined)[]>(undefined, 0, -1, []);
  const spelled = (d: number, negative: boolean): number => (negative ? d - rank : d);
  const one = fc.tuple(fc.integer({ min: 0, max: rank - 1 }), fc.boolean()).map(([d, n]) => spelled(d, n));
  const all = Array.from({ length: rank }, (_, i) => i);
  const several = fc
    .tuple(fc.shuffledSubarray(all, { minLength: 1 }), fc.array(fc.boolean(), { minLength: rank, maxLength: rank }))
    .map(([ds, neg]) => ds.map((d, i) => spelled(d, neg[i])));
  return fc.oneof(fc.constant(undefined), one, several);
}

/**
 * One axis of a tensor of rank `rank` (rank ≥ 1), positive or negative.
 * @example shape({ minRank: 1 }).chain((s) => fc.tuple(tensorOf(s), axis(s.length))) // for softmax(x, dim)
 */
export function axis(rank: number): Arbitrary<number> {
  if (rank < 1) throw new WedgeError(`axis: a tensor of rank ${rank} has no axes`);
  return fc.integer({ min: -rank, max: rank - 1 });
}

/**
 * A shape with as many elements as `s`: its dims shuffled, neighbours merged, and sometimes one
 * dim written as -1: targets for reshape and view.
 * @example reshapeOf([2, 3, 4]) // e.g. [4, 6], [3, -1], [2, 3, 4], [24]
 */
export function reshapeOf(s: readonly number[]): Arbitrary<number[]> {
  if (s.length === 0) return fc.constantFrom([], [1], [1, 1], [-1]);
  return fc
    .tuple(
      fc.shuffledSubarray([...s], { minLength: s.length, maxLength: s.length }),
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
      fc.integer({ min: -1, max: s.length }),
    )
    .map(([dims, merge, free]) => {
      const out: number[] = [];
      dims.forEach((d, i) => {
        if (i > 0 && merge[i]) out[out.length - 1] *= d;
        else out.push(d);
      });
      // NOTE: -1 cannot be inferred next to a zero-size dim (0 · anything = 0)
      if (free >= 0 && free < out.length && sizeOf(s) > 0) out[free] = -1;
      return out;
    });
}
