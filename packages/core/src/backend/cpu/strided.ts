// Strided views on the CPU: where each element of a view sits in its storage, walked row by row so
// that kernels keep unit-stride inner loops whatever the layout. Shared by every CPU kernel family
// (and by the models' fused kernels, through @wedge/core's exports).
import type { DType, TypedArray } from '../../dtype.ts';
import { sizeOf } from '../../shape.ts';
import { CpuStorage } from '../../storage.ts';
import { Tensor } from '../../tensor.ts';

/** The typed array under a CPU tensor. */
export const dataOf = (t: Tensor): TypedArray => (t.storage as CpuStorage).data;

/** A fresh contiguous CPU tensor. @example cpuTensor(new Float32Array([1, 2, 3, 4]), [2, 2], 'float32') */
export function cpuTensor(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(new CpuStorage(data, dtype), [...shape]);
}

/**
 * The storage index of every element of `t` in row-major order, or null when `t` is contiguous
 * (element i then sits at t.offset + i).
 * @example stridedOffsets(arange(6).reshape([2, 3]).mT) // Int32Array [0, 3, 1, 4, 2, 5]
 */
export function stridedOffsets(t: Tensor): Int32Array | null {
  if (t.isContiguous()) return null;
  const { shape, strides } = t;
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  if (n === 0) return out;
  const last = shape[nd - 1];
  const lastStride = strides[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let base = t.offset;
  let p = 0;
  for (;;) {
    for (let j = 0; j < last; j++) out[p++] = base + j * lastStride;
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return out;
  }
}

// ---- strided iteration --------------------------------------------------------------------------
// NOTE: a fast path. Rather than a storage index per element (stridedOffsets), kernels walk their
// operands row by row: dims of size 1 are dropped and neighbouring dims merged wherever every
// operand steps through them as one, so that a broadcast [B, H, T, 1] ⊙ [B, H, 1, T] becomes rows
// of T elements with one stride each, and a contiguous operand becomes a single row.

/** Shape and per-operand strides with size-1 dims dropped and mergeable neighbours merged. */
export function collapse(shape: readonly number[], stridesOf: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const strides: number[][] = stridesOf.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    // dim d continues the previous kept dim when, for every operand, stride[prev] = stride[d]·shape[d]
    if (last >= 0 && stridesOf.every((st, k) => strides[k][last] === st[d] * shape[d])) {
      dims[last] *= shape[d];
      stridesOf.forEach((st, k) => (strides[k][last] = st[d]));
    } else {
      dims.push(shape[d]);
      stridesOf.forEach((st, k) => strides[k].push(st[d]));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    strides.forEach((st) => st.push(0));
  }
  return { dims, strides };
}

/**
 * Storage offset of the start of every row (all dims but the last) of a collapsed view.
 * @example
 * rowStarts([2, 3], [3, 1], 0) // Int32Array [0, 3]
 */
export function rowStarts(dims: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const nd = dims.length - 1;
  let rows = 1;
  for (let d = 0; d < nd; d++) rows *= dims[d];
  const out = new Int32Array(rows);
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  for (let r = 0; r < rows; r++) {
    out[r] = base;
    for (let d = nd - 1; d >= 0; d--) {
      base += strides[d];
      if (++idx[d] < dims[d]) break;
      base -= strides[d] * dims[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Rows of a same-shape group of views: row length, per-operand row starts and in-row strides.
 * @example
 * const { n, starts, steps } = rowsOf([a, b]);
 */
export interface Rows {
  /** Elements per row. */
  n: number;
  /** starts[k][r]: storage offset of row r of operand k. */
  starts: Int32Array[];
  /** steps[k]: operand k's stride along a row. */
  steps: number[];
}

/**
 * Rows of views of one shape, for kernels that loop row by row with unit-stride inner loops: row length, per-view
 * row starts and in-row steps.
 * @example
 * const { n, starts, steps } = rowsOf([out, x]); // row r of x: storage[starts[1][r] + i * steps[1]], i < n
 */
export function rowsOf(views: readonly Tensor[]): Rows {
  const { dims, strides } = collapse(views[0].shape, views.map((v) => v.strides));
  return {
    n: dims[dims.length - 1],
    starts: views.map((v, k) => rowStarts(dims, strides[k], v.offset)),
    steps: strides.map((st) => st[st.length - 1]),
  };
}

/** Storage indices of `t`, contiguous or not. */
export const offsetsOf = (t: Tensor): Int32Array => {
  const offs = stridedOffsets(t);
  if (offs !== null) return offs;
  const out = new Int32Array(t.size);
  for (let i = 0; i < out.length; i++) out[i] = t.offset + i;
  return out;
};
