// CPU softmax and logSoftmax over one dim, max-shifted, in float64.
import { type DType, type TypedArray, allocate } from '../../dtype.ts';
import { contiguousStrides } from '../../shape.ts';
import { CpuStorage } from '../../storage.ts';
import { Tensor } from '../../tensor.ts';
import type { Kernel } from '../backend.ts';
import { contiguousCopy } from './elementwise.ts';
import { cpuTensor, dataOf, rowStarts } from './strided.ts';

/** Softmax over `dim`, max-shifted. A row of all -inf gives NaN, as in PyTorch. */
export function softmaxKernel(log: boolean): Kernel {
  return ([x], { dim }: { dim: number }) => {
    const order = [...x.shape.map((_, i) => i).filter((i) => i !== dim), dim];
    const n = x.shape[dim];
    const rows = n === 0 ? 0 : x.size / n;
    const src = dataOf(x);
    const step = x.strides[dim];
    const others = order.slice(0, -1);
    const starts = rowStarts([...others.map((i) => x.shape[i]), 1], [...others.map((i) => x.strides[i]), 0], x.offset);
    const tmp = new Float64Array(n);
    const res = allocate(x.dtype, x.size); // in `order`, permuted back below
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      let max = -Infinity;
      for (let k = 0, i = starts[r]; k < n; k++, i += step) {
        const v = src[i];
        tmp[k] = v;
        if (v > max || v !== v) max = v;
      }
      let sum = 0;
      for (let k = 0; k < n; k++) {
        // NOTE: e^(x−max) is kept so that each exp is taken once, and a masked −∞ (half of a causal
        // attention row) gives its exact 0 without calling exp (max = −∞ still goes through: NaN)
        const e = tmp[k] === -Infinity && max !== -Infinity ? 0 : Math.exp(tmp[k] - max);
        sum += e;
        if (!log) tmp[k] = e;
      }
      if (log) {
        const lse = Math.log(sum);
        for (let k = 0; k < n; k++) res[base + k] = tmp[k] - max - lse;
      } else {
        for (let k = 0; k < n; k++) res[base + k] = tmp[k] / sum;
      }
    }
    return permuteBack(res, order.map((i) => x.shape[i]), order, x.shape, x.dtype);
  };
}

/** `data` is contiguous in the shape `viewShape` = x.shape permuted by `order`; undo the permute. */
function permuteBack(data: TypedArray, viewShape: readonly number[], order: readonly number[], shape: readonly number[], dtype: DType): Tensor {
  if (order.every((d, i) => d === i)) return cpuTensor(data, shape, dtype);
  const viewStrides = contiguousStrides(viewShape);
  const strides = new Array<number>(shape.length);
  order.forEach((d, i) => (strides[d] = viewStrides[i]));
  return contiguousCopy(new Tensor(new CpuStorage(data, dtype), [...shape], strides, 0));
}
