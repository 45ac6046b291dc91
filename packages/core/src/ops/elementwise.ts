// Elementwise ops, declared as tables: one line per op with its derivative, in the style of
// PyTorch's derivatives.yaml. `gOut` is the gradient of the output, `out` the output itself.
// Adding an op: a line here, its scalar function in backend/cpu/elementwise.ts (and, optionally, a GPU kernel).
import { type DType, isFloat, promoteTypes, scalarDType } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { broadcastShapes, sameShape, type Shape } from '../shape.ts';
import { CpuStorage } from '../storage.ts';
import { Tensor, type TensorLike } from '../tensor.ts';
import { runKernel } from '../backend/dispatch.ts';
import type { InputGrads } from '../autograd/node.ts';
import { defineOp } from './define.ts';

type UnaryGrad = (gOut: Tensor, x: Tensor, out: Tensor) => Tensor;

/** Unary ops. `float`: an integer input gives a float32 output (as torch.exp(int) does). */
const UNARY: Record<string, { grad: UnaryGrad; float?: boolean }> = {
  neg: { grad: (gOut) => neg(gOut) }, //                                   d(−x) = −1
  exp: { float: true, grad: (gOut, _x, out) => mul(gOut, out) }, //        d eˣ = eˣ
  log: { float: true, grad: (gOut, x) => div(gOut, x) }, //                d ln x = 1/x
  sqrt: { float: true, grad: (gOut, _x, out) => div(gOut, mul(out, 2)) }, // d √x = 1/(2√x)
  abs: { grad: (gOut, x) => mul(gOut, sign(x)) }, //                       d |x| = sign x
  tanh: { float: true, grad: (gOut, _x, out) => mul(gOut, sub(1, mul(out, out))) }, // 1 − tanh²x
  sigmoid: { float: true, grad: (gOut, _x, out) => mul(gOut, mul(out, sub(1, out))) }, // σ(1 − σ)
  relu: { grad: (gOut, _x, out) => mul(gOut, gt(out, 0)) }, //             1 where relu(x) > 0
  sin: { float: true, grad: (gOut, x) => mul(gOut, cos(x)) }, //           d sin x = cos x
  cos: { float: true, grad: (gOut, x) => neg(mul(gOut, sin(x))) }, //      d cos x = −sin x
  sign: { grad: (gOut) => mul(gOut, 0) }, //                               0 almost everywhere
};

type BinaryGrads = (gOut: Tensor, a: Tensor, b: Tensor, out: Tensor) => { a: () => Tensor; b: () => Tensor };

/** Binary arithmetic ops; operands broadcast, and the engine sums gradients back to their shapes. */
const BINARY: Record<string, BinaryGrads> = {
  add: (gOut) => ({ a: () => gOut, b: () => gOut }),
  sub: (gOut) => ({ a: () => gOut, b: () => neg(gOut) }),
  mul: (gOut, a, b) => ({ a: () => mul(gOut, b), b: () => mul(gOut, a) }),
  div: (gOut, _a, b, out) => ({ a: () => div(gOut, b), b: () => neg(div(mul(gOut, out), b)) }), // −a/b²
  // d aᵇ/da = b·aᵇ⁻¹, taken as 0 where b = 0 (a⁰ = 1 is flat even at a = 0, where 0·0⁻¹ is NaN);
  // d aᵇ/db = aᵇ·ln a, taken as 0 where a = 0 and b ≥ 0 (both as PyTorch does)
  pow: (gOut, a, b, out) => ({
    a: () => where(eq(b, 0), 0, mul(gOut, mul(b, pow(a, sub(b, 1))))),
    b: () => where(logicalAnd(eq(a, 0), ge(b, 0)), 0, mul(gOut, mul(out, log(a)))),
  }),
  // ties split the gradient in half, as PyTorch does
  maximum: (gOut, a, b) => ({ a: () => mul(gOut, tieShare(gt(a, b), eq(a, b))), b: () => mul(gOut, tieShare(lt(a, b), eq(a, b))) }),
  minimum: (gOut, a, b) => ({ a: () => mul(gOut, tieShare(lt(a, b), eq(a, b))), b: () => mul(gOut, tieShare(gt(a, b), eq(a, b))) }),
};

/** Comparisons: bool outputs, no gradient. */
const COMPARISONS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;

// ---- the machinery behind the tables ------------------------------------------------------------

/** A stride-0 view of `t` broadcast to `shape` (no graph: used inside forwards). */
export function broadcastView(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = shape.length - t.ndim;
  const strides = shape.map((d, i) => {
    const j = i - lead;
    return j < 0 || (t.shape[j] === 1 && d !== 1) ? 0 : t.strides[j];
  });
  return new Tensor(t.storage, [...shape], strides, t.offset);
}

/** A JS number as a 0-d tensor; its dtype follows the other operand (PyTorch's wrapped-number rule). */
export function scalarTensor(value: number | boolean, dtype: DType): Tensor {
  return new Tensor(new CpuStorage(allocateOne(dtype, value), dtype), []);
}

function allocateOne(dtype: DType, value: number | boolean): Float32Array | Float64Array | Int32Array | Uint8Array {
  const v = Number(value);
  switch (dtype) {
    case 'float32': return Float32Array.of(v);
    case 'float64': return Float64Array.of(v);
    case 'int32': return Int32Array.of(v);
    case 'bool': return Uint8Array.of(v ? 1 : 0);
  }
}

/** Turn two operands into tensors; a number takes the tensor's dtype where that loses nothing. */
function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor) return [a, b];
  if (a instanceof Tensor) return [a, scalarTensor(b as number, scalarDType(a.dtype, b as number))];
  if (b instanceof Tensor) return [scalarTensor(a as number, scalarDType(b.dtype, a as number)), b];
  if (typeof a === 'number' && typeof b === 'number') return [scalarTensor(a, 'float32'), scalarTensor(b, 'float32')];
  throw new WedgeError(`${op}: expected tensors or numbers, got ${typeof a} and ${typeof b}`);
}

const unaryOps: Record<string, (inputs: readonly Tensor[], attrs: { dtype: DType }) => Tensor> = {};
for (const [name, { grad }] of Object.entries(UNARY)) {
  unaryOps[name] = defineOp<{ dtype: DType }>({
    name,
    inputs: ['x'],
    forward: ([x], attrs) => runKernel(name, [x], attrs),
    backward: (gOut, { inputs: [x], out }) => ({ x: () => grad(gOut, x, out) }),
  });
}

function unary(name: string, x: Tensor): Tensor {
  checkTensor(name, x);
  const dtype = UNARY[name].float && !isFloat(x.dtype) ? 'float32' : x.dtype;
  if (dtype === 'bool') throw new WedgeError(`${name}: not defined for bool tensors (shape ${fmtShape(x.shape)})`);
  return unaryOps[name]([x], { dtype });
}

const binaryOps: Record<string, (inputs: readonly Tensor[], attrs: { dtype: DType }) => Tensor> = {};
for (const [name, grads] of Object.entries(BINARY)) {
  binaryOps[name] = defineOp<{ dtype: DType }>({
    name,
    inputs: ['a', 'b'],
    forward: ([a, b], attrs) => {
      const shape = broadcastShapes(name, a.shape, b.shape);
      return runKernel(name, [broadcastView(a, shape), broadcastView(b, shape)], attrs);
    },
    backward: (gOut, { inputs: [a, b], out }) => grads(gOut, a, b, out) as InputGrads,
  });
}
for (const name of COMPARISONS) {
  binaryOps[name] = defineOp<{ dtype: DType }>({
    name,
    inputs: ['a', 'b'],
    forward: ([a, b], attrs) => {
      const shape = broadcastShapes(name, a.shape, b.shape);
      return runKernel(name, [broadcastView(a, shape), broadcastView(b, shape)], attrs);
    },
  });
}

function binary(name: string, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands(name, a, b);
  broadcastShapes(name, ta.shape, tb.shape); // checked here, before any kernel runs
  let dtype = resultType(ta, tb);
  if ((COMPARISONS as readonly string[]).includes(name)) dtype = 'bool';
  else if (name === 'div' && !isFloat(dtype)) dtype = 'float32'; // true division, as torch.div
  else if (dtype === 'bool' && name !== 'maximum' && name !== 'minimum') dtype = 'int32';
  return binaryOps[name]([ta, tb], { dtype });
}

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };

/**
 * PyTorch's result type: a 0-d operand (a wrapped number, or a tensor like `tensor(2.0)`) does
 * not widen a dimensioned operand of the same or a lower category: float32 [3] + float64 0-d is
 * float32; int32 [3] + float64 0-d is float64. Otherwise the wider dtype wins.
 */
function resultType(a: Tensor, b: Tensor): DType {
  if ((a.ndim === 0) === (b.ndim === 0)) return promoteTypes(a.dtype, b.dtype);
  const [dimensioned, zeroDim] = a.ndim === 0 ? [b, a] : [a, b];
  return CATEGORY[zeroDim.dtype] > CATEGORY[dimensioned.dtype] ? zeroDim.dtype : dimensioned.dtype;
}

function checkTensor(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new WedgeError(`${op}: expected a Tensor, got ${typeof x}`);
}

/** 1 where `win`, ½ where `tie`, else 0. */
const tieShare = (win: Tensor, tie: Tensor): Tensor => add(cast(win, 'float32'), mul(cast(tie, 'float32'), 0.5));

// ---- the public functions -----------------------------------------------------------------------

/** a + b, broadcasting. @example add(x, 1) */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a − b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a · b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b (true division: integer inputs give float32). */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** aᵇ with a tensor or scalar exponent. @example pow(x, 2) */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** Elementwise maximum (NaN propagates). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** Elementwise minimum (NaN propagates). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** x² (composite: its gradient comes from mul). */
export const square = (x: Tensor): Tensor => mul(x, x);

const logicalAnd = (a: Tensor, b: Tensor): Tensor => cast(mul(a, b), 'bool');

const castFloat = defineOp<{ dtype: DType }>({
  name: 'cast',
  inputs: ['x'],
  forward: ([x], attrs) => runKernel('cast', [x], attrs),
  backward: (gOut, { inputs: [x] }) => ({ x: () => cast(gOut, x.dtype) }), // identity, in x's dtype
});
const castOther = defineOp<{ dtype: DType }>({
  name: 'cast',
  inputs: ['x'],
  forward: ([x], attrs) => runKernel('cast', [x], attrs),
});

/** The same values as `dtype` (returns `x` itself when it already is). Float→int truncates toward 0. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', x);
  if (x.dtype === dtype) return x;
  return (isFloat(dtype) ? castFloat : castOther)([x], { dtype });
}

const whereOp = defineOp<{ dtype: DType }>({
  name: 'where',
  inputs: ['condition', 'a', 'b'],
  forward: ([c, a, b], attrs) => {
    const shape = broadcastShapes('where', c.shape, a.shape, b.shape);
    return runKernel('where', [broadcastView(c, shape), broadcastView(a, shape), broadcastView(b, shape)], attrs);
  },
  // the gradient goes to whichever operand was picked
  backward: (gOut, { inputs: [c] }) => ({ a: () => where(c, gOut, 0), b: () => where(c, 0, gOut) }),
});

/**
 * condition ? a : b, elementwise with broadcasting. `condition` must be bool.
 * @example where(x.gt(0), x, 0) // relu
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor('where', condition);
  if (condition.dtype !== 'bool') {
    throw new WedgeError(`where: condition must be bool, got ${condition.dtype} ${fmtShape(condition.shape)}`);
  }
  const [ta, tb] = operands('where', a, b);
  broadcastShapes('where', condition.shape, ta.shape, tb.shape);
  return whereOp([condition, ta, tb], { dtype: resultType(ta, tb) });
}

/**
 * x with `value` where `mask` is true; `mask` must broadcast to x's shape (torch.masked_fill).
 * @example scores.maskedFill(causal.eq(0), -Infinity)
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkTensor('maskedFill', x);
  checkTensor('maskedFill', mask);
  if (mask.dtype !== 'bool') {
    throw new WedgeError(`maskedFill: mask must be bool, got ${mask.dtype} ${fmtShape(mask.shape)}`);
  }
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (!sameShape(shape, x.shape)) {
    throw new WedgeError(
      `maskedFill: mask ${fmtShape(mask.shape)} must broadcast to the input's shape ${fmtShape(x.shape)}, not widen it to ${fmtShape(shape)}`,
    );
  }
  return where(mask, scalarTensor(value, x.dtype), x);
}
