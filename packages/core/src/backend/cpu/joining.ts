// CPU joining and slicing kernels: cat along a dim, and sliceScatter (the gradient of a strided slice).
import { type DType, allocate } from '../../dtype.ts';
import { sizeOf, contiguousStrides } from '../../shape.ts';
import { CpuStorage } from '../../storage.ts';
import { Tensor } from '../../tensor.ts';
import type { Kernel } from '../backend.ts';
import { contiguousCopy, copyStrided } from './elementwise.ts';
import { cpuTensor, dataOf } from './strided.ts';

/** Concatenate same-rank tensors along `dim` (the op checked the other sizes). */
export const cat: Kernel = (xs, { dim, dtype }: { dim: number; dtype: DType }) => {
  const shape = [...xs[0].shape];
  shape[dim] = xs.reduce((s, x) => s + x.shape[dim], 0);
  const out = allocate(dtype, sizeOf(shape));
  const outer = sizeOf(shape.slice(0, dim));
  const inner = sizeOf(shape.slice(dim + 1));
  const rowOut = shape[dim] * inner;
  let start = 0;
  for (const x of xs) {
    const block = x.shape[dim] * inner;
    const src = dataOf(contiguousCopy(x));
    for (let o = 0; o < outer; o++) {
      const from = o * block;
      if (dtype === x.dtype) out.set(src.subarray(from, from + block), o * rowOut + start);
      else for (let k = 0; k < block; k++) out[o * rowOut + start + k] = src[from + k];
    }
    start += block;
  }
  return cpuTensor(out, shape, dtype);
};

/** zeros(shape) with `src` written into `[..., start::step, ...]` along `dim`. */
export const sliceScatter: Kernel = ([src], { shape, dim, start, step }: { shape: number[]; dim: number; start: number; step: number }) => {
  const out = allocate(src.dtype, sizeOf(shape));
  const strides = contiguousStrides(shape);
  const viewStrides = [...strides];
  viewStrides[dim] *= step;
  copyStrided(new Tensor(new CpuStorage(out, src.dtype), [...src.shape], viewStrides, start * strides[dim]), src);
  return cpuTensor(out, shape, src.dtype);
};
