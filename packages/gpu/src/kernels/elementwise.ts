// Elementwise kernels on the GPU: every unary and binary op of the CPU backend, `where`, `cast` and
// `contiguous`. Inputs are same-shape strided views (broadcast dims have stride 0), read in place.
import type { BinaryOp, ComparisonOp, DType, Tensor, UnaryOp } from '@wedge/core';
import { emitOffsets } from '../codegen.ts';
import { operandKey, operandOf, readOperand, type KernelRunner } from '../runtime.ts';

/**
 * Each unary op as a GLSL-safe JS expression of `x`, beside the CPU backend's definition.
 * NOTE: NaN propagates as on the CPU through the `x != x` tests below, which Mesa keeps; a GLSL
 * compiler that folds `x != x` to false (allowed by GLSL ES 1.00) gives 0 or the other operand.
 */
export const UNARY_EXPR: Record<UnaryOp | 'cast', (x: string) => string> = {
  neg: (x) => `-${x}`,
  exp: (x) => `Math.exp(${x})`,
  log: (x) => `Math.log(${x})`,
  sqrt: (x) => `Math.sqrt(${x})`,
  abs: (x) => `Math.abs(${x})`,
  tanh: (x) => `wedgeTanh(${x})`,
  sigmoid: (x) => `wedgeSigmoid(${x})`,
  relu: (x) => `(${x} > 0.0 || ${x} != ${x} ? ${x} : 0.0)`,
  sin: (x) => `Math.sin(${x})`,
  cos: (x) => `Math.cos(${x})`,
  sign: (x) => `(${x} > 0.0 ? 1.0 : (${x} < 0.0 ? -1.0 : 0.0))`, // sign(NaN) = 0, as PyTorch
  cast: (x) => x, // float32 ↔ bool only (bool is stored as 0/1); see castExpr
};

/** Each binary op as an expression of `a` and `b`; comparisons give 1 or 0, as on the CPU. */
export const BINARY_EXPR: Record<BinaryOp | ComparisonOp, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  pow: (a, b) => `wedgePow(${a}, ${b})`,
  maximum: (a, b) => `(${a} != ${a} || ${b} != ${b} ? ${a} + ${b} : Math.max(${a}, ${b}))`,
  minimum: (a, b) => `(${a} != ${a} || ${b} != ${b} ? ${a} + ${b} : Math.min(${a}, ${b}))`,
  eq: (a, b) => `(${a} == ${b} ? 1.0 : 0.0)`,
  ne: (a, b) => `(${a} != ${b} ? 1.0 : 0.0)`,
  lt: (a, b) => `(${a} < ${b} ? 1.0 : 0.0)`,
  le: (a, b) => `(${a} <= ${b} ? 1.0 : 0.0)`,
  gt: (a, b) => `(${a} > ${b} ? 1.0 : 0.0)`,
  ge: (a, b) => `(${a} >= ${b} ? 1.0 : 0.0)`,
};

/** cast to bool is a test against 0; to float32 the values are already floats. */
const castExpr = (x: string, dtype: DType): string => (dtype === 'bool' ? `(${x} != 0.0 ? 1.0 : 0.0)` : x);

/**
 * out[i] = expr(inputs at i): one generated kernel per op name, shape and input layout.
 * `name` keys the cache, so two calls with the same name must use the same `expr`.
 */
export function elementwise(
  runner: KernelRunner,
  name: string,
  expr: (values: string[]) => string,
  inputs: readonly Tensor[],
  dtype: DType,
): Tensor {
  const shape = inputs[0].shape;
  const ops = inputs.map(operandOf);
  const key = `${name}>${dtype}|${shape.join(',')}|${ops.map(operandKey).join('|')}`;
  const source = (): string => {
    const strided = ops.flatMap((o, k) => (o.kind === 'num' ? [] : [k]));
    const offsets = emitOffsets('i', shape, strided.map((k) => ops[k]), 'o');
    const reads = ops.map((_, k) => `const v${k} = ${readOperand(ops, k, `o${strided.indexOf(k)}`)};`);
    return `function(${ops.map((_, k) => `a${k}`).join(', ')}) {
      const i = this.thread.x + 0.0;
      ${offsets}
      ${reads.join('\n')}
      return ${expr(ops.map((_, k) => `v${k}`))};
    }`;
  };
  return runner.run(key, source, ops, shape, dtype);
}

/** The elementwise kernels, keyed by the CPU backend's kernel names. */
export function elementwiseKernels(runner: KernelRunner): Record<string, (inputs: readonly Tensor[], attrs: any) => Tensor> {
  const kernels: Record<string, (inputs: readonly Tensor[], attrs: any) => Tensor> = {};
  for (const [name, f] of Object.entries(UNARY_EXPR)) {
    kernels[name] = ([x], { dtype }: { dtype: DType }) =>
      elementwise(runner, name, ([v]) => (name === 'cast' ? castExpr(v, dtype) : f(v)), [x], dtype);
  }
  for (const [name, f] of Object.entries(BINARY_EXPR)) {
    kernels[name] = ([a, b], { dtype }: { dtype: DType }) => elementwise(runner, name, ([u, v]) => f(u, v), [a, b], dtype);
  }
  kernels.where = ([c, a, b], { dtype }: { dtype: DType }) =>
    elementwise(runner, 'where', ([vc, va, vb]) => `(${vc} != 0.0 ? ${va} : ${vb})`, [c, a, b], dtype);
  kernels.contiguous = ([x]) => elementwise(runner, 'contiguous', ([v]) => v, [x], x.dtype);
  return kernels;
}
