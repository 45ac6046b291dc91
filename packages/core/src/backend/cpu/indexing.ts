// CPU indexing kernels: indexSelect / indexAdd (whole slices) and gather / scatterAdd (elements).
import { type DType, allocate } from '../../dtype.ts';
import { sizeOf, contiguousStrides } from '../../shape.ts';
import type { Kernel } from '../backend.ts';
import { contiguousCopy } from './elementwise.ts';
import { cpuTensor, dataOf } from './strided.ts';

/** out = x.indexSelect(dim, index): out[..., i, ...] = x[..., index[i], ...]. */
export const indexSelect: Kernel = ([x, index], { dim }: { dim: number }) => {
  const idx = contiguousCopy(index);
  const ids = dataOf(idx);
  const outShape = [...x.shape];
  outShape[dim] = ids.length;
  const outer = sizeOf(x.shape.slice(0, dim));
  const inner = sizeOf(x.shape.slice(dim + 1));
  const src = dataOf(contiguousCopy(x));
  const out = allocate(x.dtype, sizeOf(outShape));
  const n = x.shape[dim];
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < ids.length; i++) {
      const from = (o * n + ids[i]) * inner;
      out.set(src.subarray(from, from + inner), p);
      p += inner;
    }
  }
  return cpuTensor(out, outShape, x.dtype);
};

/** zeros(shape).index_add_(dim, index, src). */
export const indexAdd: Kernel = ([index, src], { dim, shape, dtype }: { dim: number; shape: number[]; dtype: DType }) => {
  const ids = dataOf(contiguousCopy(index));
  const s = dataOf(contiguousCopy(src));
  const out = allocate(dtype, sizeOf(shape));
  const outer = sizeOf(shape.slice(0, dim));
  const inner = sizeOf(shape.slice(dim + 1));
  const n = shape[dim];
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < ids.length; i++) {
      const to = (o * n + ids[i]) * inner;
      for (let k = 0; k < inner; k++) out[to + k] += s[p++];
    }
  }
  return cpuTensor(out, shape, dtype);
};

/** Visit every element of a contiguous `indexShape` with its linear index and coordinates. */
function forEachCoord(indexShape: readonly number[], visit: (linear: number, coords: number[]) => void): void {
  const n = sizeOf(indexShape);
  const coords = new Array<number>(indexShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    visit(i, coords);
    for (let d = indexShape.length - 1; d >= 0; d--) {
      if (++coords[d] < indexShape[d]) break;
      coords[d] = 0;
    }
  }
}

/** out[i][j][k] = x[i][index[i][j][k]][k] (for dim = 1). */
export const gather: Kernel = ([x, index], { dim }: { dim: number }) => {
  const ids = dataOf(contiguousCopy(index));
  const src = dataOf(x);
  const out = allocate(x.dtype, index.size);
  forEachCoord(index.shape, (i, coords) => {
    let off = x.offset;
    for (let d = 0; d < coords.length; d++) off += (d === dim ? ids[i] : coords[d]) * x.strides[d];
    out[i] = src[off];
  });
  return cpuTensor(out, index.shape, x.dtype);
};

/** zeros(shape).scatter_add_(dim, index, src). */
export const scatterAdd: Kernel = ([index, src], { dim, shape, dtype }: { dim: number; shape: number[]; dtype: DType }) => {
  const ids = dataOf(contiguousCopy(index));
  const s = dataOf(contiguousCopy(src));
  const out = allocate(dtype, sizeOf(shape));
  const strides = contiguousStrides(shape);
  forEachCoord(index.shape, (i, coords) => {
    let off = 0;
    for (let d = 0; d < coords.length; d++) off += (d === dim ? ids[i] : coords[d]) * strides[d];
    out[off] += s[i];
  });
  return cpuTensor(out, shape, dtype);
};
