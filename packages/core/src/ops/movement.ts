// Movement ops. reshape/view, permute/transpose, expand and slicing return strided views of the
// same storage (no copy); contiguous() and clone() copy. Each backward moves gOut back.
import { WedgeError, describeValue, fmtShape } from '../errors.ts';
import { checkSize, contiguousStrides, normalizeDim, sameShape, sizeOf, type Shape } from '../shape.ts';
import { promoteTypes, type DType, type TypedArray } from '../dtype.ts';
import { Tensor } from '../tensor.ts';
import { runKernel, toCpu } from '../backend/dispatch.ts';
import { cpuBackend } from '../backend/cpu/index.ts';
import { defineOp, type OpFn } from './define.ts';
import { checkTensor } from './elementwise.ts';

const viewOf = (x: Tensor, shape: Shape, strides: readonly number[], offset = x.offset): Tensor =>
  new Tensor(x.storage, [...shape], [...strides], offset);

/**
 * Strides that let `newShape` view memory laid out as (oldShape, oldStrides), or null when the
 * dims being merged are not contiguous with each other (then reshape must copy).
 */
function viewStrides(oldShape: Shape, oldStrides: readonly number[], newShape: Shape): number[] | null {
  if (sizeOf(oldShape) === 0 || oldShape.length === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    // a chunk ends where the next-outer dim does not continue this one's memory
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

/** Resolve one -1 in a requested shape, checking the element count. */
function inferShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new WedgeError(`${op}: invalid shape ${fmtShape(shape)} for input of shape ${fmtShape(x.shape)}`);
  }
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = [...shape];
  if (free === 1) {
    if (known === 0 || x.size % known !== 0) {
      throw new WedgeError(`${op}: shape ${fmtShape(shape)} is invalid for input of shape ${fmtShape(x.shape)} (${x.size} elements)`);
    }
    out[out.indexOf(-1)] = x.size / known;
  } else if (known !== x.size) {
    throw new WedgeError(`${op}: shape ${fmtShape(shape)} is invalid for input of shape ${fmtShape(x.shape)} (${x.size} elements)`);
  }
  return out;
}

const reshapeOp = defineOp<{ shape: number[]; strict: boolean }>({
  name: 'reshape',
  inputs: ['x'],
  forward: ([x], { shape, strict }) => {
    const strides = viewStrides(x.shape, x.strides, shape);
    if (strides) return viewOf(x, shape, strides);
    if (strict) {
      throw new WedgeError(
        `view: shape ${fmtShape(shape)} is not compatible with the input's size and strides ` +
          `(shape ${fmtShape(x.shape)}, strides ${fmtShape(x.strides)}); use reshape() or contiguous() first`,
      );
    }
    const c = runKernel('contiguous', [x]);
    return viewOf(c, shape, contiguousStrides(shape), 0);
  },
  backward: (gOut, { inputs: [x] }) => ({ x: () => reshape(gOut, x.shape) }),
});

/**
 * Same elements in a new shape (one dim may be -1): a view when the strides allow, else a copy.
 * @example
 * reshape(x, [B, T, H, D])
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', x);
  const target = inferShape('reshape', x, shape);
  if (sameShape(target, x.shape)) return x;
  return reshapeOp([x], { shape: target, strict: false });
}

/** Like reshape, but never copies: throws when the strides do not allow a view. @example view(x, [2, -1]) */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('view', x);
  const target = inferShape('view', x, shape);
  return reshapeOp([x], { shape: target, strict: true });
}

/** Merge dims startDim..endDim into one. @example x.flatten(1) // [B, C·H·W] */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.ndim, x.shape);
  const e = normalizeDim('flatten', endDim, x.ndim, x.shape);
  if (s > e) throw new WedgeError(`flatten: startDim ${startDim} comes after endDim ${endDim} (shape ${fmtShape(x.shape)})`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

const permuteOp = defineOp<{ dims: number[] }>({
  name: 'permute',
  inputs: ['x'],
  forward: ([x], { dims }) => viewOf(x, dims.map((d) => x.shape[d]), dims.map((d) => x.strides[d])),
  backward: (gOut, { attrs: { dims } }) => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return { x: () => permute(gOut, inverse) };
  },
});

/** Reorder dims (a view). @example x.permute(0, 2, 1, 3) */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor('permute', x);
  const norm = dims.map((d) => normalizeDim('permute', d, x.ndim, x.shape));
  if (norm.length !== x.ndim || new Set(norm).size !== norm.length) {
    throw new WedgeError(`permute: dims ${fmtShape(dims)} are not a permutation of the ${x.ndim} dims of ${fmtShape(x.shape)}`);
  }
  if (norm.every((d, i) => d === i)) return x;
  return permuteOp([x], { dims: norm });
}

/** Swap two dims (a view). @example k.transpose(-2, -1) */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor('transpose', x);
  if (x.ndim < 2 && (dim0 === 0 || dim0 === -1) && (dim1 === 0 || dim1 === -1)) return x;
  const a = normalizeDim('transpose', dim0, x.ndim, x.shape);
  const b = normalizeDim('transpose', dim1, x.ndim, x.shape);
  const dims = x.shape.map((_, i) => i);
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return permute(x, dims);
}

/** Insert a size-1 dim at `dim` (a view). @example unsqueeze(bias, 0).shape // [1, N] */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor('unsqueeze', x);
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1, x.shape);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/**
 * Remove size-1 dims (all, or those named). A named dim that is not 1 is left alone, as in PyTorch.
 * @example
 * squeeze(zeros([2, 1, 3])).shape // [2, 3]
 */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  checkTensor('squeeze', x);
  const named =
    dim === undefined ? null : (typeof dim === 'number' ? [dim] : dim).map((d) => normalizeDim('squeeze', d, x.ndim, x.shape));
  return reshape(x, x.shape.filter((s, i) => s !== 1 || (named !== null && !named.includes(i))));
}

const expandOp = defineOp<{ shape: number[] }>({
  name: 'expand',
  inputs: ['x'],
  forward: ([x], { shape }) => {
    const lead = shape.length - x.ndim;
    const strides = shape.map((d, i) => (i < lead || (x.shape[i - lead] === 1 && d !== 1) ? 0 : x.strides[i - lead]));
    return viewOf(x, shape, strides);
  },
  // the engine sums gOut back over the broadcast dims
  backward: (gOut) => ({ x: () => gOut }),
});

/**
 * Broadcast to `shape` without copying (-1 keeps a size). Only size-1 or new leading dims grow.
 * @example
 * expand(zeros([1, 3]), [4, 3]).strides // [0, 1]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('expand', x);
  const lead = shape.length - x.ndim;
  if (lead < 0) {
    throw new WedgeError(`expand: target ${fmtShape(shape)} has fewer dims than the input ${fmtShape(x.shape)}`);
  }
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  target.forEach((d, i) => {
    const have = i < lead ? 1 : x.shape[i - lead];
    if (!Number.isInteger(d) || d < 0 || (i < lead && d === -1) || (have !== 1 && have !== d)) {
      throw new WedgeError(
        `expand: size ${have} cannot expand to ${d} at dim ${i} (input ${fmtShape(x.shape)}, target ${fmtShape(shape)})`,
      );
    }
  });
  if (sameShape(target, x.shape)) return x;
  return expandOp([x], { shape: target });
}

interface SliceAttrs {
  dim: number;
  start: number;
  step: number;
  length: number;
}

const sliceOp: OpFn<SliceAttrs> = defineOp<SliceAttrs>({
  name: 'slice',
  inputs: ['x'],
  forward: ([x], { dim, start, step, length }) => {
    const shape = [...x.shape];
    shape[dim] = length;
    const strides = [...x.strides];
    strides[dim] *= step;
    return viewOf(x, shape, strides, x.offset + (length > 0 ? start * x.strides[dim] : 0));
  },
  // the slice's gradient lands back in its positions; the rest of x gets zeros
  backward: (gOut, { inputs: [x], attrs }) => ({ x: () => sliceScatterOp([gOut], { ...attrs, shape: [...x.shape] }) }),
});

const sliceScatterOp: OpFn<SliceAttrs & { shape: number[] }> = defineOp<SliceAttrs & { shape: number[] }>({
  name: 'sliceScatter',
  inputs: ['src'],
  forward: ([src], { shape, dim, start, step }) => runKernel('sliceScatter', [src], { shape, dim, start, step }),
  backward: (gOut, { attrs }) => ({ src: () => sliceOp([gOut], attrs) }),
});

/**
 * `x[..., start:end:step, ...]` along `dim`, Python-style (negative indices count from the end,
 * out-of-range bounds clamp, ±Infinity reaches the end), as a view.
 * @example x.slice(-1, 0, undefined, 2) // x[..., 0::2]
 */
export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  checkTensor('slice', x);
  if (x.ndim === 0) throw new WedgeError(`slice: cannot slice a 0-d tensor (shape []); reshape it to [1] first`);
  const d = normalizeDim('slice', dim, x.ndim, x.shape);
  if (!Number.isInteger(step) || step <= 0) {
    throw new WedgeError(`slice: step must be a positive integer, got ${step} (shape ${fmtShape(x.shape)}, dim ${dim})`);
  }
  const n = x.shape[d];
  const clamp = (what: string, i: number | undefined, fallback: number): number => {
    if (i === undefined) return fallback;
    if (typeof i !== 'number' || !(Number.isInteger(i) || i === Infinity || i === -Infinity)) {
      throw new WedgeError(`slice: ${what} must be an integer, got ${describeValue(i)} (shape ${fmtShape(x.shape)}, dim ${dim})`);
    }
    const j = i < 0 ? i + n : i;
    return Math.min(Math.max(j, 0), n);
  };
  const s = clamp('start', start, 0);
  const e = clamp('end', end, n);
  const length = e > s ? Math.ceil((e - s) / step) : 0;
  if (s === 0 && length === n && step === 1) return x;
  return sliceOp([x], { dim: d, start: s, step, length });
}

/**
 * The `length` entries of `dim` from `start` (torch.narrow): a view. A negative start counts from
 * the end; unlike slice, a range that does not fit is an error, not clamped.
 * @example x.narrow(-1, 0, 16) // x[..., 0:16]
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor('narrow', x);
  if (x.ndim === 0) throw new WedgeError(`narrow: cannot narrow a 0-d tensor (shape [])`);
  const d = normalizeDim('narrow', dim, x.ndim, x.shape);
  const n = x.shape[d];
  const where = `(dim ${dim} of size ${n}, shape ${fmtShape(x.shape)})`;
  if (typeof start !== 'number' || !Number.isInteger(start) || start < -n || start > n) {
    throw new WedgeError(`narrow: start ${describeValue(start)} is not an integer in [${-n}, ${n}] ${where}`);
  }
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
    throw new WedgeError(`narrow: length ${describeValue(length)} is not a non-negative integer ${where}`);
  }
  const s = start < 0 ? start + n : start;
  if (s + length > n) throw new WedgeError(`narrow: start ${start} + length ${length} exceeds the size ${where}`);
  return slice(x, d, s, s + length);
}

/**
 * Split into pieces of `size` (the last may be smaller) or of the listed sizes, as views.
 * @example
 * const [q, k, v] = split(qkv, dModel, -1);
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  checkTensor('split', x);
  const d = normalizeDim('split', dim, x.ndim, x.shape);
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) {
      throw new WedgeError(`split: size must be a positive integer, got ${sizeOrSections} (shape ${fmtShape(x.shape)}, dim ${dim})`);
    }
    sizes = [];
    for (let i = 0; i < n; i += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - i));
    if (n === 0) sizes = [0];
  } else {
    sizes = [...sizeOrSections];
    const bad = sizes.find((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 0);
    if (bad !== undefined) {
      throw new WedgeError(`split: sizes [${sizes.map(describeValue).join(', ')}] must be non-negative integers (${describeValue(bad)} is not)`);
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) {
      throw new WedgeError(`split: sizes ${fmtShape(sizes)} must sum to ${n}, the size of dim ${d} of ${fmtShape(x.shape)}`);
    }
  }
  let start = 0;
  return sizes.map((s) => {
    const piece = slice(x, d, start, start + s);
    start += s;
    return piece;
  });
}

/**
 * Split into `chunks` nearly equal pieces (PyTorch: each of size ceil(n / chunks), so there may be
 * fewer pieces); an empty dim gives `chunks` empty pieces, as in PyTorch.
 * @example const [a, b] = chunk(x, 2, -1);
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkTensor('chunk', x);
  if (!Number.isInteger(chunks) || chunks <= 0) throw new WedgeError(`chunk: chunks must be a positive integer, got ${describeValue(chunks)}`);
  const d = normalizeDim('chunk', dim, x.ndim, x.shape);
  if (x.shape[d] === 0) return split(x, new Array<number>(chunks).fill(0), d);
  return split(x, Math.ceil(x.shape[d] / chunks), d);
}

const catOp = defineOp<{ dim: number; dtype: DType }>({
  name: 'cat',
  inputs: ['...'],
  forward: (xs, attrs) => runKernel('cat', xs, attrs),
  // each input gets its own stretch of gOut
  backward: (gOut, { inputs, attrs: { dim } }) => {
    const grads: Record<string, () => Tensor> = {};
    let start = 0;
    inputs.forEach((x, i) => {
      const s = start;
      grads[`x.${i}`] = () => slice(gOut, dim, s, s + x.shape[dim]);
      start += x.shape[dim];
    });
    return grads;
  },
});

/** A non-empty array of tensors, or a WedgeError naming the op and the first entry that is not one. */
function checkTensorList(op: string, xs: unknown): asserts xs is readonly Tensor[] {
  if (!Array.isArray(xs)) throw new WedgeError(`${op}: expected an array of tensors, got ${describeValue(xs)}`);
  if (xs.length === 0) throw new WedgeError(`${op}: needs at least one tensor`);
  const bad = xs.findIndex((x) => !(x instanceof Tensor));
  if (bad >= 0) throw new WedgeError(`${op}: entry ${bad} is not a Tensor (got ${describeValue(xs[bad])})`);
}

/** Concatenate along `dim`; all other sizes must match. @example cat([a, b], -1) */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  checkTensorList('cat', xs);
  const first = xs[0];
  const d = normalizeDim('cat', dim, first.ndim, first.shape);
  if (first.ndim === 0) throw new WedgeError('cat: zero-dimensional tensors cannot be concatenated');
  xs.forEach((x, i) => {
    if (x.ndim !== first.ndim) {
      throw new WedgeError(`cat: tensor ${i} has ${x.ndim} dims, tensor 0 has ${first.ndim}: ${fmtShape(x.shape)} vs ${fmtShape(first.shape)}`);
    }
    x.shape.forEach((s, k) => {
      if (k !== d && s !== first.shape[k]) {
        throw new WedgeError(
          `cat: sizes must match except in dim ${d}: tensor 0 ${fmtShape(first.shape)} vs tensor ${i} ${fmtShape(x.shape)} (dim ${k}: ${first.shape[k]} ≠ ${s})`,
        );
      }
    });
  });
  const dtype = xs.map((x) => x.dtype).reduce(promoteTypes);
  if (xs.length === 1) return xs[0];
  const shape = [...first.shape];
  shape[d] = xs.reduce((n, x) => n + x.shape[d], 0);
  checkSize('cat', shape, dtype);
  return catOp(xs, { dim: d, dtype });
}

/** Stack equal-shape tensors along a new dim. @example stack([tensor([1, 2]), tensor([3, 4])]).shape // [2, 2] */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  checkTensorList('stack', xs);
  xs.forEach((x, i) => {
    if (!sameShape(x.shape, xs[0].shape)) {
      throw new WedgeError(`stack: all tensors need the same shape: tensor 0 ${fmtShape(xs[0].shape)} vs tensor ${i} ${fmtShape(x.shape)}`);
    }
  });
  const d = normalizeDim('stack', dim, xs[0].ndim + 1, xs[0].shape);
  return catOp(xs.map((x) => unsqueeze(x, d)), { dim: d, dtype: xs.map((x) => x.dtype).reduce(promoteTypes) });
}

/** A copy (the `contiguous` kernel) recorded under its own name: the gradient passes unchanged. */
const copyOp = (name: 'contiguous' | 'clone'): OpFn<void> =>
  defineOp<void>({
    name,
    inputs: ['x'],
    forward: ([x]) => runKernel('contiguous', [x]),
    backward: (gOut) => ({ x: () => gOut }), // a copy: identity
  });
const contiguousOp = copyOp('contiguous');
const cloneOp = copyOp('clone');

/**
 * A contiguous tensor with the same values (x itself when already contiguous).
 * @example
 * contiguous(x.mT).isContiguous() // true
 */
export function contiguous(x: Tensor): Tensor {
  checkTensor('contiguous', x);
  if (x.isContiguous()) return x;
  checkSize('contiguous', x.shape, x.dtype); // an expanded view may be far larger than its storage
  return contiguousOp([x], undefined);
}

/** A copy with its own storage, in the graph (gradients flow through). @example const before = clone(w); */
export function clone(x: Tensor): Tensor {
  checkTensor('clone', x);
  checkSize('clone', x.shape, x.dtype);
  return cloneOp([x], undefined);
}

/** The values of `x` as a fresh contiguous CPU typed array (reads back from a device). */
export function contiguousData(x: Tensor): TypedArray {
  const c = cpuBackend.kernels.contiguous!([toCpu(x)], {}, cpuBackend);
  return c.storage.read(); // the kernel made a fresh array
}
