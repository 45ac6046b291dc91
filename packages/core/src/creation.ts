// Tensor constructors: from data, filled, ranges, and the triangular masks.
import { type DType, type TypedArray, allocate, dtypeOfArray } from './dtype.ts';
import { WedgeError, fmtShape } from './errors.ts';
import { sizeOf } from './shape.ts';
import { Tensor, type NestedArray } from './tensor.ts';
import { sub, le, ge, where } from './ops/elementwise.ts';
import { unsqueeze } from './ops/movement.ts';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
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
  let values: ArrayLike<number>;
  let shape: number[];
  let inferred: DType = 'float32';
  if (ArrayBuffer.isView(data)) {
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
    if (sizeOf(opts.shape) !== values.length) {
      throw new WedgeError(`tensor: ${values.length} values do not fill shape ${fmtShape(opts.shape)} (${sizeOf(opts.shape)})`);
    }
    shape = [...opts.shape];
  }
  const dtype = opts.dtype ?? inferred;
  const storage = allocate(dtype, values.length);
  if (dtype === 'bool') for (let i = 0; i < values.length; i++) storage[i] = values[i] ? 1 : 0;
  else storage.set(values);
  return finish(Tensor.fromArray(storage, shape, dtype), opts);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number | boolean, opts: TensorOptions = {}): Tensor {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new WedgeError(`full: invalid shape ${fmtShape(shape)}`);
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  const data = allocate(dtype, sizeOf(shape));
  data.fill(Number(value));
  return finish(Tensor.fromArray(data, shape, dtype), opts);
}

export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor => full(shape, 1, opts);
export const fullLike = (x: Tensor, value: number, opts: TensorOptions = {}): Tensor =>
  full(x.shape, value, { dtype: x.dtype, ...opts });
export const zerosLike = (x: Tensor, opts: TensorOptions = {}): Tensor => fullLike(x, 0, opts);
export const onesLike = (x: Tensor, opts: TensorOptions = {}): Tensor => fullLike(x, 1, opts);

/**
 * Values start, start+step, … below end. Like PyTorch, integer arguments give int32 (its int64),
 * any fractional one gives float32; `dtype` overrides.
 * @example arange(0, 16, 2).float()
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new WedgeError(`arange: step must be finite and non-zero, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const integral = [start, end, step].every(Number.isInteger);
  const dtype = opts.dtype ?? (integral ? 'int32' : 'float32');
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(Tensor.fromArray(data, [n], dtype), opts);
}

/** `steps` evenly spaced values from start to end inclusive (float32). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new WedgeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = opts.dtype ?? 'float32';
  const data = allocate(dtype, steps);
  // NOTE: PyTorch fills the second half backwards from `end`, so the last value is exactly `end`,
  // and computes in the output's precision: float32 rounds at each step (Math.fround) to match it.
  const r = dtype === 'float32' ? Math.fround : (v: number) => v;
  const [s, e] = [r(start), r(end)];
  const delta = steps > 1 ? r(r(e - s) / (steps - 1)) : 0;
  // a single step is `start` (the halves rule alone would give `end`)
  const half = steps === 1 ? 1 : Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) data[i] = i < half ? r(s + r(delta * i)) : r(e - r(delta * (steps - 1 - i)));
  return finish(Tensor.fromArray(data, [steps], dtype), opts);
}

/** Identity matrix [n, m] (m defaults to n). */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const t = zeros([n, m], opts);
  const data = t.storage.read();
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return t;
}

/** Keep the last two dims' entries with col − row ≤ diagonal (lower triangle), zero the rest. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return where(triangleMask('tril', x, diagonal, true), x, 0);
}

/** Keep entries with col − row ≥ diagonal (upper triangle), zero the rest. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return where(triangleMask('triu', x, diagonal, false), x, 0);
}

function triangleMask(op: string, x: Tensor, diagonal: number, lower: boolean): Tensor {
  if (x.ndim < 2) throw new WedgeError(`${op}: needs at least 2 dims, got ${fmtShape(x.shape)}`);
  const rows = unsqueeze(arange(x.shape[x.ndim - 2]), 1); // [R, 1]
  const cols = unsqueeze(arange(x.shape[x.ndim - 1]), 0); // [1, C]
  const offset = sub(cols, rows); // [R, C]
  return lower ? le(offset, diagonal) : ge(offset, diagonal);
}
