// Reductions over one or several dims, with keepdim. `sum` and `max`/`min` are primitives; `mean`
// is a composite (sum / count) whose gradient comes for free.
import { type DType, isFloat } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { broadcastShapes, normalizeDim, normalizeDims, sameShape, sizeOf, type Shape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { runKernel } from '../backend/dispatch.ts';
import { defineOp, noteNonDifferentiable } from './define.ts';
import { add, cast, checkTensor, div, eq, mul, ne } from './elementwise.ts';
import { expand, reshape } from './movement.ts';

interface ReduceAttrs {
  dims: number[];
  keepdim: boolean;
  dtype: DType;
}

/** The shape with reduced dims kept as size 1. */
const keptShape = (shape: Shape, dims: readonly number[]): number[] => shape.map((d, i) => (dims.includes(i) ? 1 : d));

/** Run a reduction kernel and restore the kept dims when asked. */
function reduceForward(kernel: string, x: Tensor, attrs: ReduceAttrs): Tensor {
  const out = runKernel(kernel, [x], { dims: attrs.dims, dtype: attrs.dtype });
  return attrs.keepdim ? reshape(out, keptShape(x.shape, attrs.dims)) : out;
}

/** gOut broadcast back over the reduced dims. */
const spread = (gOut: Tensor, x: Tensor, dims: readonly number[]): Tensor =>
  expand(reshape(gOut, keptShape(x.shape, dims)), x.shape);

const sumOp = defineOp<ReduceAttrs>({
  name: 'sum',
  inputs: ['x'],
  forward: ([x], attrs) => reduceForward('sum', x, attrs),
  backward: (gOut, { inputs: [x], attrs }) => ({ x: () => spread(gOut, x, attrs.dims) }), // ∂Σx/∂xᵢ = 1
});

/** a ∧ b for bool tensors. */
const bothTrue = (a: Tensor, b: Tensor): Tensor => cast(mul(a, b), 'bool');

/** Max/min send the gradient to the extreme elements, split evenly among ties (as torch.amax). */
function extremeOp(name: 'max' | 'min') {
  return defineOp<ReduceAttrs>({
    name,
    inputs: ['x'],
    forward: ([x], attrs) => reduceForward(name, x, attrs),
    backward: (gOut, { inputs: [x], out, attrs }) => ({
      x: () => {
        // the extreme may be NaN (NaN wins the forward): then the NaN elements get the gradient,
        // as torch.max() and torch.max(dim) send it there, rather than 0/0 everywhere
        const extreme = spread(out, x, attrs.dims);
        const hit = add(cast(eq(x, extreme), x.dtype), cast(bothTrue(ne(x, x), ne(extreme, extreme)), x.dtype));
        const count = sumOp([hit], { ...attrs, keepdim: true });
        return mul(spread(gOut, x, attrs.dims), div(hit, count));
      },
    }),
  });
}
const maxOp = extremeOp('max');
const minOp = extremeOp('min');

function attrsFor(op: string, x: Tensor, dim: number | readonly number[] | undefined, keepdim: boolean, dtype: DType): ReduceAttrs {
  checkTensor(op, x);
  return { dims: normalizeDims(op, dim, x.shape), keepdim, dtype };
}

/**
 * Sum over `dim` (one axis, several, or all when omitted). Integer and bool inputs sum to int32.
 * @example x.sum(-1, true) // [B, T, 1]
 */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dtype = isFloat(x.dtype) ? x.dtype : 'int32';
  return sumOp([x], attrsFor('sum', x, dim, keepdim, dtype));
}

/**
 * Mean over `dim` (all when omitted). Floating-point inputs only, as in PyTorch.
 * @example
 * mean(x); mean(x, -1, true)
 */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  checkTensor('mean', x);
  if (!isFloat(x.dtype)) {
    throw new WedgeError(`mean: needs a floating-point tensor, got ${x.dtype} ${fmtShape(x.shape)}; cast it first`);
  }
  const dims = normalizeDims('mean', dim, x.shape);
  const count = sizeOf(dims.map((d) => x.shape[d]));
  return div(sum(x, dims, keepdim), count);
}

/** Reducing over an axis of size 0 has no max/min/argmax: PyTorch raises too. */
function checkNonEmpty(op: string, x: Tensor, dims: readonly number[]): void {
  if (x.size === 0 && (dims.length === 0 || sizeOf(dims.map((d) => x.shape[d])) === 0)) {
    throw new WedgeError(`${op}: cannot reduce over an empty extent (shape ${fmtShape(x.shape)}, dims ${JSON.stringify(dims)})`);
  }
}

/**
 * Largest value over `dim` (all when omitted). Returns values only; see argmax for indices.
 * @example
 * max(scores, -1, true)
 */
export function max(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const attrs = attrsFor('max', x, dim, keepdim, x.dtype);
  checkNonEmpty('max', x, attrs.dims);
  return maxOp([x], attrs);
}

/** Smallest value over `dim` (all when omitted). @example min(x, 0) */
export function min(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const attrs = attrsFor('min', x, dim, keepdim, x.dtype);
  checkNonEmpty('min', x, attrs.dims);
  return minOp([x], attrs);
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  const out = argReduceValues(op, x, dim, keepdim);
  noteNonDifferentiable(out, op, [x]);
  return out;
}

function argReduceValues(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim === undefined) {
    checkNonEmpty(op, x, []);
    const flat = reshape(x, [x.size]);
    const out = runKernel(op, [flat], { dims: [0] });
    return keepdim ? reshape(out, x.shape.map(() => 1)) : out;
  }
  const d = normalizeDim(op, dim, x.ndim, x.shape);
  checkNonEmpty(op, x, [d]);
  const out = runKernel(op, [x], { dims: x.ndim === 0 ? [] : [d] });
  return keepdim ? reshape(out, keptShape(x.shape, [d])) : out;
}

/**
 * Index of the largest value along `dim` (of the flattened tensor when omitted); int32, first on ties.
 * @example
 * argmax(logits, -1) // predicted ids, int32
 */
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmax', x, dim, keepdim);
/** Index of the smallest value along `dim`; int32, first on ties. @example argmin(tensor([3, 1, 2])).item() // 1 */
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor => argReduce('argmin', x, dim, keepdim);

/**
 * Sum `g` down to `shape`, undoing a broadcast: leading dims are summed away, and dims where
 * `shape` has 1 are summed with keepdim. Throws if `shape` does not broadcast to g's shape.
 * @example sumToShape(ones([4, 3]), [1, 3]).toArray() // [[4, 4, 4]]
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const target = broadcastShapes('sumToShape', g.shape, shape);
  if (!sameShape(target, g.shape)) {
    throw new WedgeError(`sumToShape: ${fmtShape(shape)} does not broadcast to ${fmtShape(g.shape)}`);
  }
  const lead = g.ndim - shape.length;
  const dims = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  return reshape(sum(g, dims, false), shape);
}
