// Dtypes and their typed-array storage, plus PyTorch-style type promotion.
import { WedgeError } from './errors.ts';

/**
 * Element types: float32 (the default for floats), float64, int32 (integers and indices), bool.
 * @example
 * zeros([2], { dtype: 'float64' })
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
/**
 * The typed array behind each dtype: Float32Array, Float64Array, Int32Array, Uint8Array (bool).
 * @example
 * const values: TypedArray = x.data();
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

/**
 * Allocate zeroed storage of `size` elements for `dtype`.
 * @example
 * allocate('float32', 6) // Float32Array(6) of zeros
 */
export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
    case 'bool': return new Uint8Array(size);
  }
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Whether gradients can flow through this dtype (float32 or float64). @example isFloat('int32') // false */
export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/**
 * PyTorch's promotion for two tensors: bool < int32 < float32 < float64.
 * @example
 * promoteTypes('int32', 'float32') // 'float32'
 */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Whether `v` is exactly an int32 value. */
export const isInt32 = (v: number): boolean => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;

/**
 * The dtype a JS number takes next to a tensor of dtype `t` (PyTorch's "wrapped number" rule:
 * a scalar never widens a float tensor; a number that is not an int32, fractional or out of
 * range like 1e40, acts as a Python float and makes an integer tensor float32).
 */
export function scalarDType(t: DType, value: number | boolean): DType {
  if (typeof value === 'boolean') return t;
  if (isFloat(t)) return t;
  if (isInt32(value)) return t === 'bool' ? 'int32' : t;
  return 'float32';
}

/**
 * `value` as stored in `dtype`: bool is true when non-zero; int32 truncates toward 0, and a value
 * outside int32's range (NaN and ±∞ too) is an error naming `op`, as PyTorch's "cannot be converted without overflow".
 */
export function storedValue(op: string, dtype: DType, value: number): number {
  if (dtype === 'bool') return value ? 1 : 0;
  if (dtype === 'int32' && !isInt32(Math.trunc(value))) {
    throw new WedgeError(`${op}: value ${value} cannot be converted to int32 without overflow`);
  }
  return value;
}

/** The dtype of a bare JS value (both operands numbers): bool, int32 when exact, else float32. */
export const valueDType = (value: number | boolean): DType =>
  typeof value === 'boolean' ? 'bool' : isInt32(value) ? 'int32' : 'float32';
