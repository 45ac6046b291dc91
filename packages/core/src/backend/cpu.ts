// The CPU backend: every kernel, in plain loops over typed arrays. This is the reference the other
// backends must match. Arithmetic runs in float64 and is rounded once when stored, so each float32
// elementwise result is the correctly rounded one (as IEEE float32 arithmetic gives).
import { type DType, type TypedArray, allocate } from '../dtype.ts';
import { sizeOf, contiguousStrides } from '../shape.ts';
import { CpuStorage } from '../storage.ts';
import { Tensor } from '../tensor.ts';
import type { Backend, Kernel } from './backend.ts';
import { matmulKernel } from './cpu_matmul.ts';

const dataOf = (t: Tensor): TypedArray => (t.storage as CpuStorage).data;

/** A fresh contiguous CPU tensor. */
export function cpuTensor(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(new CpuStorage(data, dtype), [...shape]);
}

/**
 * The storage index of every element of `t` in row-major order, or null when `t` is contiguous
 * (element i then sits at t.offset + i).
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

// ---- elementwise --------------------------------------------------------------------------------

/** Scalar functions of the unary kernels (names match ops/elementwise.ts). */
export const UNARY_FNS: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  tanh: Math.tanh,
  // NOTE: split at 0 so that neither branch overflows exp().
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 ? x : x === x ? 0 : x),
  sin: Math.sin,
  cos: Math.cos,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === x ? 0 : x),
  cast: (x) => x,
};

/** Scalar functions of the binary kernels. Comparisons give 1 or 0. */
export const BINARY_FNS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};

function unaryKernel(name: string): Kernel {
  const f = UNARY_FNS[name];
  return ([x], { dtype }: { dtype: DType }) => {
    const n = x.size;
    const out = allocate(dtype, n);
    const src = dataOf(x);
    const offs = stridedOffsets(x);
    const toBool = dtype === 'bool';
    if (offs === null) {
      const o = x.offset;
      if (toBool) for (let i = 0; i < n; i++) out[i] = src[o + i] !== 0 ? 1 : 0;
      else for (let i = 0; i < n; i++) out[i] = f(src[o + i]);
    } else {
      if (toBool) for (let i = 0; i < n; i++) out[i] = src[offs[i]] !== 0 ? 1 : 0;
      else for (let i = 0; i < n; i++) out[i] = f(src[offs[i]]);
    }
    return cpuTensor(out, x.shape, dtype);
  };
}

/**
 * Binary kernels get two same-shape views (broadcast dims have stride 0). The four arithmetic ops
 * get loops of their own: a call through `f` per element costs ~3× on V8 in the hot path.
 */
function binaryKernel(name: string): Kernel {
  const f = BINARY_FNS[name];
  return ([a, b], { dtype }: { dtype: DType }) => {
    const n = a.size;
    const out = allocate(dtype, n);
    const A = dataOf(a);
    const B = dataOf(b);
    const oa = stridedOffsets(a);
    const ob = stridedOffsets(b);
    if (oa === null && ob === null) {
      const pa = a.offset;
      const pb = b.offset;
      switch (name) {
        case 'add': for (let i = 0; i < n; i++) out[i] = A[pa + i] + B[pb + i]; break;
        case 'sub': for (let i = 0; i < n; i++) out[i] = A[pa + i] - B[pb + i]; break;
        case 'mul': for (let i = 0; i < n; i++) out[i] = A[pa + i] * B[pb + i]; break;
        case 'div': for (let i = 0; i < n; i++) out[i] = A[pa + i] / B[pb + i]; break;
        default: for (let i = 0; i < n; i++) out[i] = f(A[pa + i], B[pb + i]);
      }
    } else {
      const ia = oa ?? identityOffsets(n, a.offset);
      const ib = ob ?? identityOffsets(n, b.offset);
      switch (name) {
        case 'add': for (let i = 0; i < n; i++) out[i] = A[ia[i]] + B[ib[i]]; break;
        case 'sub': for (let i = 0; i < n; i++) out[i] = A[ia[i]] - B[ib[i]]; break;
        case 'mul': for (let i = 0; i < n; i++) out[i] = A[ia[i]] * B[ib[i]]; break;
        case 'div': for (let i = 0; i < n; i++) out[i] = A[ia[i]] / B[ib[i]]; break;
        default: for (let i = 0; i < n; i++) out[i] = f(A[ia[i]], B[ib[i]]);
      }
    }
    return cpuTensor(out, a.shape, dtype);
  };
}

function identityOffsets(n: number, offset: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + i;
  return out;
}

/** Storage indices of `t`, contiguous or not. */
const offsetsOf = (t: Tensor): Int32Array => stridedOffsets(t) ?? identityOffsets(t.size, t.offset);

const where: Kernel = ([cond, a, b], { dtype }: { dtype: DType }) => {
  const n = a.size;
  const out = allocate(dtype, n);
  const C = dataOf(cond), A = dataOf(a), B = dataOf(b);
  const ic = offsetsOf(cond), ia = offsetsOf(a), ib = offsetsOf(b);
  for (let i = 0; i < n; i++) out[i] = C[ic[i]] !== 0 ? A[ia[i]] : B[ib[i]];
  return cpuTensor(out, a.shape, dtype);
};

const contiguous: Kernel = ([x]) => {
  const out = allocate(x.dtype, x.size);
  const src = dataOf(x);
  const offs = stridedOffsets(x);
  if (offs === null) out.set(src.subarray(x.offset, x.offset + x.size));
  else for (let i = 0; i < out.length; i++) out[i] = src[offs[i]];
  return cpuTensor(out, x.shape, x.dtype);
};

// ---- reductions ---------------------------------------------------------------------------------

/**
 * Reduce `x` over `dims` (sorted, normalised): the output drops those dims. The input is viewed
 * with the reduced dims moved last, so each output element reduces one run of `inner` offsets.
 */
function reduceKernel(
  init: number,
  step: (acc: number, v: number, k: number) => number,
  finish: (acc: number, inner: number) => number = (acc) => acc,
): Kernel {
  return ([x], { dims, dtype }: { dims: readonly number[]; dtype: DType }) => {
    const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    const order = [...kept, ...dims];
    const view = new Tensor(x.storage, order.map((i) => x.shape[i]), order.map((i) => x.strides[i]), x.offset);
    const outShape = kept.map((i) => x.shape[i]);
    const outer = sizeOf(outShape);
    const inner = sizeOf(dims.map((i) => x.shape[i]));
    const src = dataOf(x);
    const offs = offsetsOf(view);
    const out = allocate(dtype, outer);
    for (let j = 0; j < outer; j++) {
      let acc = init;
      const base = j * inner;
      for (let k = 0; k < inner; k++) acc = step(acc, src[offs[base + k]], k);
      out[j] = finish(acc, inner);
    }
    return cpuTensor(out, outShape, dtype);
  };
}

/** Arg-reductions keep the running best value and index. NaN wins, as in PyTorch. */
function argReduce(better: (v: number, best: number) => boolean): Kernel {
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

const nanMax = (acc: number, v: number): number => (v > acc || v !== v ? v : acc);
const nanMin = (acc: number, v: number): number => (v < acc || v !== v ? v : acc);

// ---- softmax ------------------------------------------------------------------------------------

/** Softmax over `dim`, max-shifted. A row of all -inf gives NaN, as in PyTorch. */
function softmaxKernel(log: boolean): Kernel {
  return ([x], { dim }: { dim: number }) => {
    const order = [...x.shape.map((_, i) => i).filter((i) => i !== dim), dim];
    const view = new Tensor(x.storage, order.map((i) => x.shape[i]), order.map((i) => x.strides[i]), x.offset);
    const n = x.shape[dim];
    const rows = n === 0 ? 0 : x.size / n;
    const src = dataOf(x);
    const offs = offsetsOf(view);
    const tmp = new Float64Array(n);
    const res = allocate(x.dtype, x.size); // in `view` order, permuted back below
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      let max = -Infinity;
      for (let k = 0; k < n; k++) {
        const v = src[offs[base + k]];
        tmp[k] = v;
        if (v > max || v !== v) max = v;
      }
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(tmp[k] - max);
      if (log) {
        const lse = Math.log(sum);
        for (let k = 0; k < n; k++) res[base + k] = tmp[k] - max - lse;
      } else {
        for (let k = 0; k < n; k++) res[base + k] = Math.exp(tmp[k] - max) / sum;
      }
    }
    return permuteBack(res, view.shape, order, x.shape, x.dtype);
  };
}

/** `data` is contiguous in the shape `viewShape` = x.shape permuted by `order`; undo the permute. */
function permuteBack(data: TypedArray, viewShape: readonly number[], order: readonly number[], shape: readonly number[], dtype: DType): Tensor {
  if (order.every((d, i) => d === i)) return cpuTensor(data, shape, dtype);
  const viewStrides = contiguousStrides(viewShape);
  const strides = new Array<number>(shape.length);
  order.forEach((d, i) => (strides[d] = viewStrides[i]));
  return contiguous([new Tensor(new CpuStorage(data, dtype), [...shape], strides, 0)], {});
}

// ---- indexing -----------------------------------------------------------------------------------

/** out = x.indexSelect(dim, index): out[..., i, ...] = x[..., index[i], ...]. */
const indexSelect: Kernel = ([x, index], { dim }: { dim: number }) => {
  const idx = contiguous([index], {});
  const ids = dataOf(idx);
  const outShape = [...x.shape];
  outShape[dim] = ids.length;
  const outer = sizeOf(x.shape.slice(0, dim));
  const inner = sizeOf(x.shape.slice(dim + 1));
  const src = dataOf(contiguous([x], {}));
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
const indexAdd: Kernel = ([index, src], { dim, shape, dtype }: { dim: number; shape: number[]; dtype: DType }) => {
  const ids = dataOf(contiguous([index], {}));
  const s = dataOf(contiguous([src], {}));
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
const gather: Kernel = ([x, index], { dim }: { dim: number }) => {
  const ids = dataOf(contiguous([index], {}));
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
const scatterAdd: Kernel = ([index, src], { dim, shape, dtype }: { dim: number; shape: number[]; dtype: DType }) => {
  const ids = dataOf(contiguous([index], {}));
  const s = dataOf(contiguous([src], {}));
  const out = allocate(dtype, sizeOf(shape));
  const strides = contiguousStrides(shape);
  forEachCoord(index.shape, (i, coords) => {
    let off = 0;
    for (let d = 0; d < coords.length; d++) off += (d === dim ? ids[i] : coords[d]) * strides[d];
    out[off] += s[i];
  });
  return cpuTensor(out, shape, dtype);
};

// ---- joining and slicing ------------------------------------------------------------------------

/** Concatenate same-rank tensors along `dim` (the op checked the other sizes). */
const cat: Kernel = (xs, { dim, dtype }: { dim: number; dtype: DType }) => {
  const shape = [...xs[0].shape];
  shape[dim] = xs.reduce((s, x) => s + x.shape[dim], 0);
  const out = allocate(dtype, sizeOf(shape));
  const outer = sizeOf(shape.slice(0, dim));
  const inner = sizeOf(shape.slice(dim + 1));
  const rowOut = shape[dim] * inner;
  let start = 0;
  for (const x of xs) {
    const block = x.shape[dim] * inner;
    const src = dataOf(contiguous([x], {}));
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
const sliceScatter: Kernel = ([src], { shape, dim, start, step }: { shape: number[]; dim: number; start: number; step: number }) => {
  const out = allocate(src.dtype, sizeOf(shape));
  const strides = contiguousStrides(shape);
  const viewStrides = [...strides];
  viewStrides[dim] *= step;
  const target = new Tensor(new CpuStorage(out, src.dtype), [...src.shape], viewStrides, start * strides[dim]);
  const to = offsetsOf(target);
  const from = offsetsOf(src);
  const s = dataOf(src);
  for (let i = 0; i < to.length; i++) out[to[i]] = s[from[i]];
  return cpuTensor(out, shape, src.dtype);
};

const kernels: Record<string, Kernel> = {
  where,
  contiguous,
  matmul: matmulKernel,
  sum: reduceKernel(0, (acc, v) => acc + v),
  max: reduceKernel(-Infinity, nanMax),
  min: reduceKernel(Infinity, nanMin),
  argmax: argReduce((v, best) => v > best),
  argmin: argReduce((v, best) => v < best),
  softmax: softmaxKernel(false),
  logSoftmax: softmaxKernel(true),
  indexSelect,
  indexAdd,
  gather,
  scatterAdd,
  cat,
  sliceScatter,
};
for (const name of Object.keys(UNARY_FNS)) kernels[name] = unaryKernel(name);
for (const name of Object.keys(BINARY_FNS)) kernels[name] = binaryKernel(name);

export const cpuBackend: Backend = { name: 'cpu', kernels };
