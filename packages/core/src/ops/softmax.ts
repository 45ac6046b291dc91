// Softmax and log-softmax: fused, max-shifted forward kernels; backwards written with ops.
import { isFloat } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { normalizeDim } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { runKernel } from '../backend/dispatch.ts';
import { defineOp } from './define.ts';
import { checkTensor, exp, mul, sub } from './elementwise.ts';
import { sum } from './reduce.ts';

const softmaxOp = defineOp<{ dim: number }>({
  name: 'softmax',
  inputs: ['x'],
  forward: ([x], attrs) => runKernel('softmax', [x], attrs),
  // ∂L/∂x = y ⊙ (g − Σ g⊙y)
  backward: (gOut, { out, attrs: { dim } }) => ({ x: () => mul(out, sub(gOut, sum(mul(gOut, out), dim, true))) }),
});

const logSoftmaxOp = defineOp<{ dim: number }>({
  name: 'logSoftmax',
  inputs: ['x'],
  forward: ([x], attrs) => runKernel('logSoftmax', [x], attrs),
  // ∂L/∂x = g − softmax(x) · Σ g
  backward: (gOut, { out, attrs: { dim } }) => ({ x: () => sub(gOut, mul(exp(out), sum(gOut, dim, true))) }),
});

function checked(op: string, x: Tensor, dim: number): number {
  checkTensor(op, x);
  if (!isFloat(x.dtype)) throw new WedgeError(`${op}: needs a floating-point tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
  return x.ndim === 0 ? 0 : normalizeDim(op, dim, x.ndim, x.shape);
}

/**
 * exp(x) / Σ exp(x) along `dim`, computed stably. A row that is all -Infinity gives NaN, as in PyTorch.
 * @example scores.softmax(-1) // attention weights
 */
export function softmax(x: Tensor, dim: number): Tensor {
  const d = checked('softmax', x, dim);
  return x.ndim === 0 ? softmaxOp([x.reshape([1])], { dim: 0 }).reshape([]) : softmaxOp([x], { dim: d });
}

/**
 * log(softmax(x)) along `dim`, without forming the softmax (stable for large logits).
 * @example
 * logSoftmax(logits, -1)
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const d = checked('logSoftmax', x, dim);
  return x.ndim === 0 ? logSoftmaxOp([x.reshape([1])], { dim: 0 }).reshape([]) : logSoftmaxOp([x], { dim: d });
}
