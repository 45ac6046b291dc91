// Gathering by index: indexSelect (embedding lookup) and gather, each with a scatter-add backward
// that is itself differentiable (its gradient is the gather again).
import { type DType } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { normalizeDim, unravelIndex } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { runKernel, toCpu } from '../backend/dispatch.ts';
import { defineOp, type OpFn } from './define.ts';

interface ScatterAttrs {
  dim: number;
  shape: number[];
  dtype: DType;
}

const indexSelectOp: OpFn<{ dim: number }> = defineOp<{ dim: number }>({
  name: 'indexSelect',
  inputs: ['x', 'index'],
  forward: ([x, index], attrs) => runKernel('indexSelect', [x, index], attrs),
  // rows picked several times collect the sum of their gradients
  backward: (gOut, { inputs: [x, index], attrs: { dim } }) => ({
    x: () => indexAddOp([index, gOut], { dim, shape: [...x.shape], dtype: x.dtype }),
  }),
});

const indexAddOp: OpFn<ScatterAttrs> = defineOp<ScatterAttrs>({
  name: 'indexAdd',
  inputs: ['index', 'src'],
  forward: ([index, src], attrs) => runKernel('indexAdd', [index, src], attrs),
  backward: (gOut, { inputs: [index], attrs: { dim } }) => ({ src: () => indexSelectOp([gOut, index], { dim }) }),
});

const gatherOp: OpFn<{ dim: number }> = defineOp<{ dim: number }>({
  name: 'gather',
  inputs: ['x', 'index'],
  forward: ([x, index], attrs) => runKernel('gather', [x, index], attrs),
  backward: (gOut, { inputs: [x, index], attrs: { dim } }) => ({
    x: () => scatterAddOp([index, gOut], { dim, shape: [...x.shape], dtype: x.dtype }),
  }),
});

const scatterAddOp: OpFn<ScatterAttrs> = defineOp<ScatterAttrs>({
  name: 'scatterAdd',
  inputs: ['index', 'src'],
  forward: ([index, src], attrs) => runKernel('scatterAdd', [index, src], attrs),
  backward: (gOut, { inputs: [index], attrs: { dim } }) => ({ src: () => gatherOp([gOut, index], { dim }) }),
});

/** The first entry of `index` outside [0, size), with its position, or null when all are in range. */
export function firstOutOfRange(index: Tensor, size: number): { value: number; position: number[] } | null {
  const ids = toCpu(index).data();
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (v < 0 || v >= size) return { value: v, position: unravelIndex(i, index.shape) };
  }
  return null;
}

/** Throw naming the first index outside [0, size), with its position. */
function checkIndexRange(op: string, index: Tensor, size: number, what: string): void {
  const bad = firstOutOfRange(index, size);
  if (bad) {
    throw new WedgeError(`${op}: index ${bad.value} at position ${fmtShape(bad.position)} is out of range [0, ${size}) for ${what}`);
  }
}

function checkIndexDtype(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') {
    throw new WedgeError(`${op}: index must be int32, got ${index.dtype} ${fmtShape(index.shape)}`);
  }
}

/**
 * Pick entries along `dim` by a 1-D int32 index (torch.index_select).
 * @example weight.indexSelect(0, ids) // embedding rows, [N, D]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexDtype('indexSelect', index);
  if (index.ndim > 1) throw new WedgeError(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const d = normalizeDim('indexSelect', dim, x.ndim, x.shape);
  checkIndexRange('indexSelect', index, x.shape[d], `dim ${d} of ${fmtShape(x.shape)}`);
  return indexSelectOp([x, index.ndim === 0 ? index.reshape([1]) : index], { dim: d });
}

/**
 * out[i][j] = x[i][index[i][j]] for dim = 1 (torch.gather): index has x's rank and no larger
 * sizes than x outside `dim`.
 * @example logp.gather(-1, targets.unsqueeze(-1)) // [N, 1]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexDtype('gather', index);
  const d = normalizeDim('gather', dim, x.ndim, x.shape);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i])) {
    throw new WedgeError(
      `gather: index ${fmtShape(index.shape)} must have the rank of x ${fmtShape(x.shape)} and no larger size outside dim ${d}`,
    );
  }
  checkIndexRange('gather', index, x.shape[d], `dim ${d} of ${fmtShape(x.shape)}`);
  return gatherOp([x, index], { dim: d });
}
