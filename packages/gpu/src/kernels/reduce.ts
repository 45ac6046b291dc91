// Reductions (sum, max, min over any dims) and softmax / log-softmax over one dim on the GPU. One
// thread per output element loops over its reduced elements, read in place through the strides.
import { Tensor, contiguousStrides, type DType } from '@wedge/core';
import { coalesce, emitOffsets, lit } from '../codegen.ts';
import { operandKey, operandOf, readOperand, type KernelRunner } from '../runtime.ts';
import { elementwise } from './elementwise.ts';

type Combine = 'sum' | 'max' | 'min';

/**
 * Reduce `x` over `dims` (sorted): the output keeps the other dims, in order. The reduced dims are
 * merged where their strides allow and become nested loops.
 */
export function reduce(runner: KernelRunner, combine: Combine, x: Tensor, dims: readonly number[], dtype: DType): Tensor {
  const kept = x.shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const outShape = kept.map((d) => x.shape[d]);
  const ops = [operandOf(x)];
  const key = `${combine}|${x.shape.join(',')}|${dims.join(',')}|${ops.map(operandKey).join('|')}`;
  const source = (): string => {
    const strides = ops[0].strides;
    const inner = coalesce(dims.map((d) => x.shape[d]), [dims.map((d) => strides[d])]);
    const keptOp = { offset: ops[0].offset, strides: kept.map((d) => strides[d]) };
    const at = inner.shape.map((_, l) => (inner.strides[0][l] === 0 ? '' : ` + k${l} * ${lit(inner.strides[0][l])}`)).join('');
    const read = readOperand(ops, 0, `o0${at}`);
    const first = readOperand(ops, 0, 'o0');
    // max/min: NaN wins, as on the CPU (v != v is true only for NaN)
    const better = combine === 'max' ? 'v > acc' : 'v < acc';
    const update = combine === 'sum' ? `acc += ${read};` : `const v = ${read};\nif (${better} || v != v) { acc = v; }`;
    let body = update;
    for (let l = inner.shape.length - 1; l >= 0; l--) body = `for (let k${l} = 0; k${l} < ${inner.shape[l]}; k${l}++) {\n${body}\n}`;
    return `function(a0) {
      const i = this.thread.x + 0.0;
      ${ops[0].kind === 'num' ? '' : emitOffsets('i', outShape, [keptOp], 'o')}
      let acc = ${combine === 'sum' ? '0.0' : first};
      ${body}
      return acc;
    }`;
  };
  return runner.run(key, source, ops, outShape, dtype);
}

/**
 * Softmax or log-softmax over `dim`, max-shifted, in two kernels: one thread per row finds
 * lse = max + log Σ exp(x − max); then out = exp(x − lse) (or x − lse) elementwise, reading lse
 * through a stride-0 view. A row of all −∞ gives NaN, as on the CPU.
 */
export function softmax(runner: KernelRunner, log: boolean, x: Tensor, dim: number): Tensor {
  const rowsShape = x.shape.filter((_, d) => d !== dim);
  const n = x.shape[dim];
  const ops = [operandOf(x)];
  const key = `lse|${x.shape.join(',')}|${dim}|${ops.map(operandKey).join('|')}`;
  const source = (): string => {
    const rowOp = { offset: ops[0].offset, strides: ops[0].strides.filter((_, d) => d !== dim) };
    const step = ops[0].strides[dim];
    const read = readOperand(ops, 0, `o0 + k * ${lit(step)}`);
    return `function(a0) {
      const i = this.thread.x + 0.0;
      ${ops[0].kind === 'num' ? '' : emitOffsets('i', rowsShape, [rowOp], 'o')}
      let m = ${readOperand(ops, 0, 'o0')};
      for (let k = 0; k < ${n}; k++) {
        const v = ${read};
        if (v > m || v != v) { m = v; }
      }
      let s = 0.0;
      for (let k = 0; k < ${n}; k++) { s += Math.exp(${read} - m); }
      return m + Math.log(s);
    }`;
  };
  const lse = runner.run(key, source, ops, rowsShape, 'float32');
  // lse viewed in x's shape: its row-major strides, with 0 along `dim`
  const rowStrides = contiguousStrides(rowsShape);
  const strides = x.shape.map((_, d) => (d === dim ? 0 : rowStrides[d < dim ? d : d - 1]));
  const spread = new Tensor(lse.storage, [...x.shape], strides, 0);
  const out = elementwise(runner, log ? 'logSoftmaxOut' : 'softmaxOut', ([v, l]) => (log ? `${v} - ${l}` : `Math.exp(${v} - ${l})`), [x, spread], x.dtype);
  lse.dispose();
  return out;
}
