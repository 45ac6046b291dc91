// CPU reductions: sum, max and min over any set of dims (float64 running sums), argmax/argmin.
import { type DType, allocate } from '../../dtype.ts';
import { sizeOf } from '../../shape.ts';
import { Tensor } from '../../tensor.ts';
import type { Kernel } from '../backend.ts';
import { cpuTensor, dataOf, offsetsOf, rowStarts, rowsOf } from './strided.ts';

/**
 * How a reduction of `x` over `dims` walks it: the output shape (x without those dims), where each
 * output's block starts in x's storage, and the block's own rows (see rowsOf) relative to that
 * start, `n` elements each, `step` apart. The wasm backend's reductions walk x the same way.
 */
export function reduceLayout(x: Tensor, dims: readonly number[]): { outShape: number[]; outerStarts: Int32Array; blockRows: Int32Array; n: number; step: number } {
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const outShape = kept.map((i) => x.shape[i]);
  const outerStarts = rowStarts([...outShape, 1], [...kept.map((i) => x.strides[i]), 0], x.offset);
  const block = new Tensor(x.storage, dims.map((i) => x.shape[i]), dims.map((i) => x.strides[i]), 0);
  const { n, starts: [blockRows], steps: [step] } = rowsOf([block]);
  return { outShape, outerStarts, blockRows, n, step };
}

/**
 * Reduce `x` over `dims` (sorted, normalised): the output drops those dims. The input is viewed
 * with the reduced dims moved last, so each output element reduces one block of `inner` elements;
 * the block is walked row by row (see rowsOf), and `sum` has a loop of its own.
 */
export function reduceKernel(
  init: number,
  step: (acc: number, v: number, k: number) => number,
  finish: (acc: number, inner: number) => number = (acc) => acc,
  isSum = false,
): Kernel {
  return ([x], { dims, dtype }: { dims: readonly number[]; dtype: DType }) => {
    const { outShape, outerStarts, blockRows, n, step: sk } = reduceLayout(x, dims);
    const outer = sizeOf(outShape);
    const inner = sizeOf(dims.map((i) => x.shape[i]));
    const src = dataOf(x);
    const out = allocate(dtype, outer);
    for (let j = 0; j < outer; j++) {
      const base = outerStarts[j];
      let acc = init;
      if (isSum) {
        for (let r = 0; r < blockRows.length; r++) {
          for (let k = 0, i = base + blockRows[r]; k < n; k++, i += sk) acc += src[i];
        }
      } else {
        let k = 0;
        for (let r = 0; r < blockRows.length; r++) {
          for (let c = 0, i = base + blockRows[r]; c < n; c++, i += sk) acc = step(acc, src[i], k++);
        }
      }
      out[j] = finish(acc, inner);
    }
    return cpuTensor(out, outShape, dtype);
  };
}

/** Arg-reductions keep the running best value and index. NaN wins, as in PyTorch. */
export function argReduce(better: (v: number, best: number) => boolean): Kernel {
  return ([x], { dims }: { dims: readonly number[] }) => {
    const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    const order = [...kept, ...dims];
    const view = new Tensor(x.storage, order.map((i) => x.shape[i]), order.map((i) => x.strides[i]), x.offset);
    const outShape = kept.map((i) => x.shape[i]);
    const outer = sizeOf(outShape);
    const inner = sizeOf(dims.map((i) => x.shape[i]));
    const src = dataOf(x);
    const offs = offsetsOf(view);
    const out = new Int32Array(outer);
    for (let j = 0; j < outer; j++) {
      let best = src[offs[j * inner]];
      let at = 0;
      for (let k = 1; k < inner && best === best; k++) {
        const v = src[offs[j * inner + k]];
        if (v !== v || better(v, best)) {
          best = v;
          at = k;
        }
      }
      out[j] = at;
    }
    return cpuTensor(out, outShape, 'int32');
  };
}

export const nanMax = (acc: number, v: number): number => (v > acc || v !== v ? v : acc);
export const nanMin = (acc: number, v: number): number => (v < acc || v !== v ? v : acc);
