// Cross-entropy as F.cross_entropy: log-softmax over the class dim (dim 1), then the negative
// log-likelihood of each target, averaged over the targets that are not ignored.
import { isFloat } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { unravelIndex } from '../shape.ts';
import { tensor } from '../creation.ts';
import type { Tensor } from '../tensor.ts';
import { toCpu } from '../backend/dispatch.ts';
import { where } from '../ops/elementwise.ts';

/**
 * Options of crossEntropy(), as torch.nn.functional.cross_entropy: `ignoreIndex` and `reduction` ('mean' | 'sum'
 * | 'none').
 * @example
 * crossEntropy(logits, targets, { ignoreIndex: -100, reduction: 'sum' })
 */
export interface CrossEntropyOptions {
  /** Targets equal to this contribute nothing and are not counted in the mean (PyTorch: -100). */
  ignoreIndex?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * loss = −log softmax(logits)[target], with logits [N, C] or [N, C, d1, …] (classes on dim 1) or
 * unbatched [C], and int32 targets [N] / [N, d1, …] / []. 'mean' divides by the number of targets
 * that are not `ignoreIndex` (NaN when all are ignored, as in PyTorch). Differentiable in logits.
 * @example crossEntropy(logits.reshape([-1, vocab]), targets.reshape([-1])) // scalar
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? 'mean';
  if (!isFloat(logits.dtype)) {
    throw new WedgeError(`crossEntropy: logits must be floating point, got ${logits.dtype} ${fmtShape(logits.shape)}`);
  }
  if (targets.dtype !== 'int32') {
    throw new WedgeError(`crossEntropy: targets must be int32 class indices, got ${targets.dtype} ${fmtShape(targets.shape)}`);
  }
  if (!['mean', 'sum', 'none'].includes(reduction)) {
    throw new WedgeError(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
  if (logits.ndim === 0) throw new WedgeError(`crossEntropy: logits need a class dim, got a scalar`);
  const unbatched = logits.ndim === 1;
  const x = unbatched ? logits.unsqueeze(0) : logits; // [N, C, d…]
  const t = unbatched ? targets.unsqueeze(0) : targets; // [N, d…]
  const expected = [x.shape[0], ...x.shape.slice(2)];
  if (t.ndim !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new WedgeError(
      `crossEntropy: targets ${fmtShape(targets.shape)} must have shape ${fmtShape(unbatched ? [] : expected)} ` +
        `for logits ${fmtShape(logits.shape)} (classes on dim 1)`,
    );
  }
  const classes = x.shape[1];

  // Check the targets, and point ignored ones at class 0 so the gather stays in range.
  const values = toCpu(t).data();
  const safe = new Int32Array(values.length);
  const keep = new Uint8Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === ignoreIndex) continue;
    if (v < 0 || v >= classes) {
      throw new WedgeError(
        `crossEntropy: target ${v} at position ${fmtShape(unravelIndex(i, t.shape))} is out of range [0, ${classes}) ` +
          `for logits ${fmtShape(logits.shape)}`,
      );
    }
    safe[i] = v;
    keep[i] = 1;
    count++;
  }
  const index = tensor(safe, { shape: [t.shape[0], 1, ...t.shape.slice(1)] }); // [N, 1, d…]
  const kept = tensor(keep, { dtype: 'bool', shape: t.shape }); // [N, d…]

  const logp = x.logSoftmax(1); // [N, C, d…]
  const picked = logp.gather(1, index).squeeze(1); // [N, d…]: log p(target)
  const nll = where(kept, picked.neg(), 0); // ignored targets give exactly 0 (and no gradient)
  if (reduction === 'none') return unbatched ? nll.squeeze(0) : nll;
  const total = nll.sum();
  return reduction === 'sum' ? total : total.div(count);
}
