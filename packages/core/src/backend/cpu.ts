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

// ---- strided iteration --------------------------------------------------------------------------
// NOTE: a fast path. Rather than a storage index per element (stridedOffsets), kernels walk their
// operands row by row: dims of size 1 are dropped and neighbouring dims merged wherever every
// operand steps through them as one, so that a broadcast [B, H, T, 1] ⊙ [B, H, 1, T] becomes rows
// of T elements with one stride each, and a contiguous operand becomes a single row.

/** Shape and per-operand strides with size-1 dims dropped and mergeable neighbours merged. */
function collapse(shape: readonly number[], stridesOf: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
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

/** Storage offset of the start of every row (all dims but the last) of a collapsed view. */
function rowStarts(dims: readonly number[], strides: readonly number[], offset: number): Int32Array {
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

/** Rows of a same-shape group of views: row length, per-operand row starts and in-row strides. */
interface Rows {
  /** Elements per row. */
  n: number;
  /** starts[k][r]: storage offset of row r of operand k. */
  starts: Int32Array[];
  /** steps[k]: operand k's stride along a row. */
  steps: number[];
}

function rowsOf(views: readonly Tensor[]): Rows {
  const { dims, strides } = collapse(views[0].shape, views.map((v) => v.strides));
  return {
    n: dims[dims.length - 1],
    starts: views.map((v, k) => rowStarts(dims, strides[k], v.offset)),
    steps: strides.map((st) => st[st.length - 1]),
  };
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
    const out = allocate(dtype, x.size);
    const X = dataOf(x);
    const { n, starts: [rx], steps: [sx] } = rowsOf([x]);
    const toBool = dtype === 'bool';
    let p = 0;
    for (let r = 0; r < rx.length; r++) {
      let ix = rx[r];
      // NOTE: neg/cast/exp get loops of their own: a call through `f` per element costs ~3× on V8
      if (toBool) for (let j = 0; j < n; j++, ix += sx) out[p++] = X[ix] !== 0 ? 1 : 0;
      else if (name === 'neg') for (let j = 0; j < n; j++, ix += sx) out[p++] = -X[ix];
      else if (name === 'cast') for (let j = 0; j < n; j++, ix += sx) out[p++] = X[ix];
      else if (name === 'exp') for (let j = 0; j < n; j++, ix += sx) out[p++] = Math.exp(X[ix]);
      else for (let j = 0; j < n; j++, ix += sx) out[p++] = f(X[ix]);
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
    const out = allocate(dtype, a.size);
    const A = dataOf(a);
    const B = dataOf(b);
    const { n, starts: [ra, rb], steps: [sa, sb] } = rowsOf([a, b]);
    // x² (pow by a broadcast 2) is common enough to deserve the multiply
    const square = name === 'pow' && sb === 0 && B[rb[0]] === 2;
    let p = 0;
    for (let r = 0; r < ra.length; r++) {
      let ia = ra[r];
      let ib = rb[r];
      switch (square ? 'square' : name) {
        case 'add': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[p++] = A[ia] + B[ib]; break;
        case 'sub': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[p++] = A[ia] - B[ib]; break;
        case 'mul': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[p++] = A[ia] * B[ib]; break;
        case 'div': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[p++] = A[ia] / B[ib]; break;
        case 'square': for (let j = 0; j < n; j++, ia += sa) out[p++] = A[ia] * A[ia]; break;
        default: for (let j = 0; j < n; j++, ia += sa, ib += sb) out[p++] = f(A[ia], B[ib]);
      }
    }
    return cpuTensor(out, a.shape, dtype);
  };
}

/** Storage indices of `t`, contiguous or not. */
const offsetsOf = (t: Tensor): Int32Array => {
  const offs = stridedOffsets(t);
  if (offs !== null) return offs;
  const out = new Int32Array(t.size);
  for (let i = 0; i < out.length; i++) out[i] = t.offset + i;
  return out;
};

const where: Kernel = ([cond, a, b], { dtype }: { dtype: DType }) => {
  const out = allocate(dtype, a.size);
  const C = dataOf(cond), A = dataOf(a), B = dataOf(b);
  const { n, starts: [rc, ra, rb], steps: [sc, sa, sb] } = rowsOf([cond, a, b]);
  let p = 0;
  for (let r = 0; r < rc.length; r++) {
    let ic = rc[r], ia = ra[r], ib = rb[r];
    for (let j = 0; j < n; j++, ic += sc, ia += sa, ib += sb) out[p++] = C[ic] !== 0 ? A[ia] : B[ib];
  }
  return cpuTensor(out, a.shape, dtype);
};

/** Copy `src`'s elements, in row-major order, into the storage positions of the view `dst`. */
function copyStrided(dst: Tensor, src: Tensor): void {
  const D = dataOf(dst), S = dataOf(src);
  const { n, starts: [rd, rs], steps: [sd, ss] } = rowsOf([dst, src]);
  for (let r = 0; r < rd.length; r++) {
    let id = rd[r], is = rs[r];
    for (let j = 0; j < n; j++, id += sd, is += ss) D[id] = S[is];
  }
}

const contiguous: Kernel = ([x]) => {
  const out = allocate(x.dtype, x.size);
  if (x.isContiguous()) out.set(dataOf(x).subarray(x.offset, x.offset + x.size));
  else copyStrided(cpuTensor(out, x.shape, x.dtype), x);
  return cpuTensor(out, x.shape, x.dtype);
};

// ---- reductions ---------------------------------------------------------------------------------

/**
 * Reduce `x` over `dims` (sorted, normalised): the output drops those dims. The input is viewed
 * with the reduced dims moved last, so each output element reduces one block of `inner` elements;
 * the block is walked row by row (see rowsOf), and `sum` has a loop of its own.
 */
function reduceKernel(
  init: number,
  step: (acc: number, v: number, k: number) => number,
  finish: (acc: number, inner: number) => number = (acc) => acc,
  isSum = false,
): Kernel {
  return ([x], { dims, dtype }: { dims: readonly number[]; dtype: DType }) => {
    const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    const outShape = kept.map((i) => x.shape[i]);
    const outer = sizeOf(outShape);
    const inner = sizeOf(dims.map((i) => x.shape[i]));
    const src = dataOf(x);
    const out = allocate(dtype, outer);
    // where each output's block starts, and the block's own rows (relative to that start)
    const outerStarts = rowStarts([...outShape, 1], [...kept.map((i) => x.strides[i]), 0], x.offset);
    const block = new Tensor(x.storage, dims.map((i) => x.shape[i]), dims.map((i) => x.strides[i]), 0);
    const { n, starts: [blockRows], steps: [sk] } = rowsOf([block]);
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
  copyStrided(new Tensor(new CpuStorage(out, src.dtype), [...src.shape], viewStrides, start * strides[dim]), src);
  return cpuTensor(out, shape, src.dtype);
};

// ---- fused ---------------------------------------------------------------------------------------

/**
 * The 3×3 Gram determinant from its six entries, elementwise over six same-shape views (the
 * triple-product attention of @wedge/models broadcasts [B, H, T, 1], [B, H, 1, T] and [B, H, T, T]):
 *   det = qq·kk·rr + 2·qk·rk·rq − qq·rk² − kk·rq² − rr·qk²
 * One pass instead of the composite's fourteen [B, H, T, T] temporaries.
 */
const gramDet: Kernel = (inputs, { dtype }: { dtype: DType }) => {
  const out = allocate(dtype, inputs[0].size);
  const [QQ, KK, RR, QK, RK, RQ] = inputs.map(dataOf);
  const { n, starts, steps } = rowsOf(inputs);
  const [s0, s1, s2, s3, s4, s5] = steps;
  let p = 0;
  for (let r = 0; r < starts[0].length; r++) {
    let i0 = starts[0][r], i1 = starts[1][r], i2 = starts[2][r], i3 = starts[3][r], i4 = starts[4][r], i5 = starts[5][r];
    for (let j = 0; j < n; j++) {
      const qq = QQ[i0], kk = KK[i1], rr = RR[i2], qk = QK[i3], rk = RK[i4], rq = RQ[i5];
      out[p++] = qq * kk * rr + 2 * qk * rk * rq - qq * rk * rk - kk * rq * rq - rr * qk * qk;
      i0 += s0; i1 += s1; i2 += s2; i3 += s3; i4 += s4; i5 += s5;
    }
  }
  return cpuTensor(out, inputs[0].shape, dtype);
};

/**
 * Rotary position embedding in the layout of @wedge/models (pairs x[2j], x[2j+1]; the rotated
 * halves concatenated, not re-interleaved), for x [..., T, D] and tables cos, sin [≥ T, D/2]:
 *   out[..., t, j]       = x[2j]·cos[t, j] − x[2j+1]·sin[t, j]
 *   out[..., t, D/2 + j] = x[2j]·sin[t, j] + x[2j+1]·cos[t, j]
 * With `transpose`, the adjoint map (RoPE's gradient, and its inverse), from the same layout back:
 *   out[..., t, 2j] = g[j]·cos + g[D/2 + j]·sin,   out[..., t, 2j + 1] = g[D/2 + j]·cos − g[j]·sin
 */
const rope: Kernel = ([x, cos, sin], { transpose }: { transpose: boolean }) => {
  const D = x.shape[x.ndim - 1];
  const T = x.shape[x.ndim - 2];
  const half = D / 2;
  const out = allocate(x.dtype, x.size);
  const X = dataOf(x), C = dataOf(cos), S = dataOf(sin);
  const sd = x.strides[x.ndim - 1];
  const [ct, cj] = cos.strides;
  const [st, sj] = sin.strides;
  const starts = rowStarts([...x.shape.slice(0, -1), 1], [...x.strides.slice(0, -1), 0], x.offset); // one row per (…, t)
  for (let r = 0; r < starts.length; r++) {
    const t = r % T;
    const base = starts[r];
    const p = r * D;
    for (let j = 0; j < half; j++) {
      const c = C[cos.offset + t * ct + j * cj];
      const s = S[sin.offset + t * st + j * sj];
      if (!transpose) {
        const a = X[base + 2 * j * sd];
        const b = X[base + (2 * j + 1) * sd];
        out[p + j] = a * c - b * s;
        out[p + half + j] = a * s + b * c;
      } else {
        const u = X[base + j * sd];
        const v = X[base + (half + j) * sd];
        out[p + 2 * j] = u * c + v * s;
        out[p + 2 * j + 1] = v * c - u * s;
      }
    }
  }
  return cpuTensor(out, x.shape, x.dtype);
};

const kernels: Record<string, Kernel> = {
  where,
  contiguous,
  matmul: matmulKernel,
  sum: reduceKernel(0, (acc, v) => acc + v, undefined, true),
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
  gramDet,
  rope,
};
for (const name of Object.keys(UNARY_FNS)) kernels[name] = unaryKernel(name);
for (const name of Object.keys(BINARY_FNS)) kernels[name] = binaryKernel(name);

export const cpuBackend: Backend = { name: 'cpu', kernels };
