// CPU elementwise kernels: every unary and binary op, `where`, and `contiguous` (a strided copy).
// Arithmetic runs in float64 and is rounded once when stored, so each float32 result is the
// correctly rounded one (as IEEE float32 arithmetic gives).
import { type DType, allocate } from '../../dtype.ts';
import { Tensor } from '../../tensor.ts';
import type { Kernel } from '../backend.ts';
import type { BinaryOp, ComparisonOp, UnaryOp } from '../../ops/elementwise.ts';
import { cpuTensor, dataOf, rowsOf } from './strided.ts';

/** Scalar functions of the unary kernels: one per op of ops/elementwise.ts's table, plus cast. */
export const UNARY_FNS: Record<UnaryOp | 'cast', (x: number) => number> = {
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
  // (0 < x) − (x < 0), as PyTorch: sign(NaN) = 0
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  cast: (x) => x,
};

/** Scalar functions of the binary kernels (one per op of the table). Comparisons give 1 or 0. */
export const BINARY_FNS: Record<BinaryOp | ComparisonOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // NOTE: C's pow (PyTorch's): 1ʸ = 1 for every y, NaN included, and (−1)^±∞ = 1; Math.pow gives NaN
  pow: (a, b) => (a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b)),
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};

export function unaryKernel(name: UnaryOp | 'cast'): Kernel {
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
export function binaryKernel(name: BinaryOp | ComparisonOp): Kernel {
  const f = BINARY_FNS[name];
  return ([a, b], { dtype }: { dtype: DType }) => {
    if (dtype === 'int32' && (name === 'mul' || name === 'pow')) return int32Product(name, a, b);
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

/**
 * int32 products wrap modulo 2³² exactly, as PyTorch's integer arithmetic does: Math.imul, since a
 * product formed in float64 loses its low bits past 2⁵³. pow multiplies by squaring (exponent ≥ 0;
 * the op refuses negative ones).
 */
function int32Product(name: 'mul' | 'pow', a: Tensor, b: Tensor): Tensor {
  const out = new Int32Array(a.size);
  const A = dataOf(a);
  const B = dataOf(b);
  const { n, starts: [ra, rb], steps: [sa, sb] } = rowsOf([a, b]);
  let p = 0;
  for (let r = 0; r < ra.length; r++) {
    let ia = ra[r];
    let ib = rb[r];
    if (name === 'mul') for (let j = 0; j < n; j++, ia += sa, ib += sb) out[p++] = Math.imul(A[ia], B[ib]);
    else for (let j = 0; j < n; j++, ia += sa, ib += sb) out[p++] = int32Pow(A[ia], B[ib]);
  }
  return cpuTensor(out, a.shape, 'int32');
}

function int32Pow(base: number, exponent: number): number {
  let result = 1;
  let square = base | 0;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = Math.imul(result, square);
    square = Math.imul(square, square);
  }
  return result;
}

export const where: Kernel = ([cond, a, b], { dtype }: { dtype: DType }) => {
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
export function copyStrided(dst: Tensor, src: Tensor): void {
  const D = dataOf(dst), S = dataOf(src);
  const { n, starts: [rd, rs], steps: [sd, ss] } = rowsOf([dst, src]);
  for (let r = 0; r < rd.length; r++) {
    let id = rd[r], is = rs[r];
    for (let j = 0; j < n; j++, id += sd, is += ss) D[id] = S[is];
  }
}

/** A fresh contiguous copy of `x` (any layout). */
export function contiguousCopy(x: Tensor): Tensor {
  const out = allocate(x.dtype, x.size);
  if (x.isContiguous()) out.set(dataOf(x).subarray(x.offset, x.offset + x.size));
  else copyStrided(cpuTensor(out, x.shape, x.dtype), x);
  return cpuTensor(out, x.shape, x.dtype);
}

export const contiguous: Kernel = ([x]) => contiguousCopy(x);
