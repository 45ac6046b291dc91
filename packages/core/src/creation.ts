// Tensor constructors: from data, filled, ranges, and the triangular masks.
import { type DType, type TypedArray, DTYPES, dtypeOfArray, storedValue } from './dtype.ts';
import { WedgeError, describeValue, fmtShape } from './errors.ts';
import { allocateFor, checkShape, sizeOf } from './shape.ts';
import { Tensor, type NestedArray } from './tensor.ts';
import { checkTensor, sub, le, ge, where, scalarTensor } from './ops/elementwise.ts';
import { unsqueeze } from './ops/movement.ts';

/**
 * Options of the constructors: `dtype` (default float32 for floats, int32 for integers) and `requiresGrad`.
 * @example
 * tensor([1, 2], { dtype: 'float64', requiresGrad: true })
 */
export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function checkOptions(op: string, opts: unknown): asserts opts is TensorOptions {
  if (typeof opts !== 'object' || opts === null) throw new WedgeError(`${op}: options must be an object, got ${describeValue(opts)}`);
  const { dtype } = opts as TensorOptions;
  if (dtype !== undefined && !DTYPES.includes(dtype)) {
    throw new WedgeError(`${op}: unknown dtype ${describeValue(dtype)} (one of ${DTYPES.join(', ')})`);
  }
}

/** Shape of a nested array, checking that it is rectangular. */
function nestedShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const check = (x: NestedArray, dim: number, path: number[]): void => {
    if (dim === shape.length) {
      if (Array.isArray(x)) throw new WedgeError(`tensor: ragged nested array at ${fmtShape(path)}: expected a number`);
      if (typeof x !== 'number' && typeof x !== 'boolean') {
        throw new WedgeError(`tensor: the value at ${fmtShape(path)} is ${describeValue(x)}, not a number or a boolean`);
      }
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new WedgeError(
        `tensor: ragged nested array at ${fmtShape(path)}: expected ${shape[dim]} entries, got ${Array.isArray(x) ? x.length : 'a number'}`,
      );
    }
    x.forEach((y, i) => check(y, dim + 1, [...path, i]));
  };
  check(data, 0, []);
  return shape;
}

/**
 * A tensor from nested arrays, a typed array or a number. Numbers default to float32 (booleans to
 * bool, typed arrays to their own dtype); `shape` reshapes flat data.
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 * @example tensor(new Int32Array([3, 1, 4]), { dtype: 'int32' })
 */
export function tensor(
  data: NestedArray | TypedArray | readonly number[],
  opts: TensorOptions & { shape?: readonly number[] } = {},
): Tensor {
  checkOptions('tensor', opts);
  let values: ArrayLike<number>;
  let shape: number[];
  let inferred: DType = 'float32';
  if (ArrayBuffer.isView(data)) {
    if (!(data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array || data instanceof Uint8Array)) {
      throw new WedgeError(`tensor: ${(data as ArrayBufferView).constructor.name} is not one of Wedge's storage types (Float32Array, Float64Array, Int32Array, Uint8Array)`);
    }
    values = data as TypedArray;
    shape = [data.length];
    inferred = dtypeOfArray(data as TypedArray);
  } else {
    shape = nestedShape(data as NestedArray);
    const flat = Array.isArray(data) ? (data as unknown[]).flat(Infinity) : [data];
    if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) inferred = 'bool';
    values = flat.map(Number);
  }
  if (opts.shape) {
    checkShape('tensor', opts.shape);
    if (sizeOf(opts.shape) !== values.length) {
      throw new WedgeError(`tensor: ${values.length} values do not fill shape ${fmtShape(opts.shape)} (${sizeOf(opts.shape)})`);
    }
    shape = [...opts.shape];
  }
  const dtype = opts.dtype ?? inferred;
  const storage = allocateFor('tensor', dtype, [values.length]);
  if (dtype === 'bool') for (let i = 0; i < values.length; i++) storage[i] = values[i] ? 1 : 0;
  else if (dtype === 'int32' && !(data instanceof Int32Array)) for (let i = 0; i < values.length; i++) storage[i] = storedValue('tensor', dtype, values[i]);
  else storage.set(values);
  return finish(Tensor.fromArray(storage, shape, dtype), opts);
}

/**
 * A tensor of `shape` filled with `value` (into bool: true when non-zero; into int32: truncated,
 * and an error when out of range).
 * @example full([2, 3], -Infinity)
 */
export function full(shape: readonly number[], value: number | boolean, opts: TensorOptions = {}): Tensor {
  return fill('full', shape, value, opts);
}

function fill(op: string, shape: readonly number[], value: number | boolean, opts: TensorOptions): Tensor {
  checkOptions(op, opts);
  if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new WedgeError(`${op}: fill value must be a number or a boolean, got ${describeValue(value)}`);
  }
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  checkShape(op, shape, dtype);
  const data = allocateFor(op, dtype, shape);
  const v = storedValue(op, dtype, Number(value));
  if (v !== 0) data.fill(v);
  return finish(Tensor.fromArray(data, shape, dtype), opts);
}

/** A tensor of zeros (float32 unless `dtype` says otherwise). @example zeros([2, 3]); zeros([4], { dtype: 'int32' }) */
export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor => fill('zeros', shape, 0, opts);
/** A tensor of ones. @example ones([2, 3], { requiresGrad: true }) */
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor => fill('ones', shape, 1, opts);
/** A tensor of x's shape (and dtype, unless `opts.dtype`) filled with `value`. @example fullLike(scores, -Infinity) */
export function fullLike(x: Tensor, value: number | boolean, opts: TensorOptions = {}): Tensor {
  checkTensor('fullLike', x);
  return fill('fullLike', x.shape, value, { dtype: x.dtype, ...opts });
}
/** Zeros with x's shape and dtype (unless `opts` says otherwise). @example zerosLike(w) */
export const zerosLike = (x: Tensor, opts: TensorOptions = {}): Tensor => fullLike(x, 0, opts);
/** Ones with x's shape and dtype. @example onesLike(loss) // the gradient backward() seeds */
export const onesLike = (x: Tensor, opts: TensorOptions = {}): Tensor => fullLike(x, 1, opts);

/**
 * Values start, start+step, … below end. Like PyTorch, integer arguments give int32 (its int64),
 * any fractional one gives float32; `dtype` overrides. The count is ⌈(end − start) / step⌉ from
 * the arguments as given; an int32 range then steps from trunc(start) by trunc(step), as PyTorch does.
 * @example arange(0, 16, 2).float()
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  checkOptions('arange', opts);
  for (const [what, v] of [['start', start], ['end', end], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new WedgeError(`arange: ${what} must be a finite number, got ${describeValue(v)}`);
  }
  if (step === 0) throw new WedgeError(`arange: step must be non-zero`);
  if ((end - start) / step < 0) {
    throw new WedgeError(`arange: the range [${start}, ${end}) and step ${step} point in opposite directions`);
  }
  const n = Math.ceil((end - start) / step);
  const integral = [start, end, step].every(Number.isInteger);
  const dtype = opts.dtype ?? (integral ? 'int32' : 'float32');
  let [first, delta] = [start, step];
  if (dtype === 'int32' || dtype === 'bool') {
    [first, delta] = [Math.trunc(start), Math.trunc(step)];
    if (delta === 0) throw new WedgeError(`arange: step ${step} truncates to 0 for ${dtype}`);
    if (n > 0) storedValue('arange', 'int32', first + (n - 1) * delta);
  }
  const data = allocateFor('arange', dtype, [n]);
  for (let i = 0; i < n; i++) data[i] = dtype === 'bool' ? +(first + i * delta !== 0) : first + i * delta;
  return finish(Tensor.fromArray(data, [n], dtype), opts);
}

/**
 * `steps` evenly spaced values from start to end inclusive (float32 unless `dtype`). Into int32,
 * as PyTorch: the bounds are truncated first, the values computed in float64 and truncated.
 * @example linspace(0, 1, 5) // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  checkOptions('linspace', opts);
  for (const [what, v] of [['start', start], ['end', end]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new WedgeError(`linspace: ${what} must be a finite number, got ${describeValue(v)}`);
  }
  if (!Number.isInteger(steps) || steps < 0) throw new WedgeError(`linspace: steps must be a non-negative integer, got ${describeValue(steps)}`);
  const dtype = opts.dtype ?? 'float32';
  const data = allocateFor('linspace', dtype, [steps]);
  // NOTE: PyTorch fills the second half backwards from `end`, so the last value is exactly `end`,
  // and computes in the output's precision: float32 rounds at each step (Math.fround) to match it.
  const integral = dtype === 'int32' || dtype === 'bool';
  const r = dtype === 'float32' ? Math.fround : (v: number) => v;
  const [s, e] = integral ? [storedValue('linspace', 'int32', start), storedValue('linspace', 'int32', end)].map(Math.trunc) : [r(start), r(end)];
  const delta = steps > 1 ? r(r(e - s) / (steps - 1)) : 0;
  // a single step is `start` (the halves rule alone would give `end`)
  const half = steps === 1 ? 1 : Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    const v = i < half ? r(s + r(delta * i)) : r(e - r(delta * (steps - 1 - i)));
    data[i] = dtype === 'bool' ? +(Math.trunc(v) !== 0) : v;
  }
  return finish(Tensor.fromArray(data, [steps], dtype), opts);
}

/** Identity matrix [n, m] (m defaults to n). @example eye(3); eye(2, 3) */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const t = fill('eye', [n, m], 0, opts);
  const data = t.storage.read();
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return t;
}

/**
 * Keep the last two dims' entries with col − row ≤ diagonal (lower triangle), zero the rest.
 * @example
 * tril(ones([3, 3])) // ones on and below the diagonal
 */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return where(triangleMask('tril', x, diagonal, true), x, zeroOf(x));
}

/**
 * Keep entries with col − row ≥ diagonal (upper triangle), zero the rest.
 * @example
 * triu(ones([3, 3]), 1) // ones above the diagonal: a causal mask
 */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return where(triangleMask('triu', x, diagonal, false), x, zeroOf(x));
}

/** 0 (false) in x's own dtype, so that tril/triu keep it (bool stays bool). */
const zeroOf = (x: Tensor): Tensor => scalarTensor(0, x.dtype);

function triangleMask(op: string, x: Tensor, diagonal: number, lower: boolean): Tensor {
  checkTensor(op, x);
  if (!Number.isInteger(diagonal)) throw new WedgeError(`${op}: diagonal must be an integer, got ${describeValue(diagonal)}`);
  if (x.ndim < 2) throw new WedgeError(`${op}: needs at least 2 dims, got ${fmtShape(x.shape)}`);
  const rows = unsqueeze(arange(x.shape[x.ndim - 2]), 1); // [R, 1]
  const cols = unsqueeze(arange(x.shape[x.ndim - 1]), 0); // [1, C]
  const offset = sub(cols, rows); // [R, C]
  return lower ? le(offset, diagonal) : ge(offset, diagonal);
}
