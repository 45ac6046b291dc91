// Elementwise ops, declared as tables: one line per op with its derivative, in the style of
// PyTorch's derivatives.yaml. `gOut` is the gradient of the output, `out` the output itself.
// Adding an op: a line here; the compiler then asks for its free function (ELEMENTWISE below), its
// Tensor method and its kernel in each backend's table (backend/cpu/elementwise.ts first).
import { type DType, allocate, isFloat, promoteTypes, scalarDType, storedValue, valueDType } from '../dtype.ts';
import { WedgeError, describeValue, fmtShape } from '../errors.ts';
import { broadcastShapes, checkSize, sameShape, unravelIndex, type Shape } from '../shape.ts';
import { CpuStorage } from '../storage.ts';
import { Tensor, type TensorLike } from '../tensor.ts';
import { runKernel } from '../backend/dispatch.ts';
import type { InputGrads } from '../autograd/node.ts';
import { defineOp } from './define.ts';

type UnaryGrad = (gOut: Tensor, x: Tensor, out: Tensor) => Tensor;

/**
 * Where an op's gradient is smooth, for the tests that check it by finite differences: values in
 * [min, max], at least `awayFromZero` from 0 (a kink or pole there), or all `distinct` (no ties).
 * @example ELEMENTWISE_OPS.log.domain[0] // { min: 0.1, max: 3 }: log's gradient is checked on positive values
 */
export interface Domain {
  readonly min?: number;
  readonly max?: number;
  readonly awayFromZero?: number;
  readonly distinct?: boolean;
}

interface UnaryDef {
  readonly grad: UnaryGrad;
  /** An integer input gives a float32 output (as torch.exp(int) does). */
  readonly float?: boolean;
  /** Defined for bool tensors, giving bool (sign). */
  readonly bool?: boolean;
  readonly domain: Domain;
}

/**
 * Unary ops: the single list of them. The free function, the Tensor method, every backend's kernel
 * table and the tests are keyed by these names, so the compiler names each place a new op must appear.
 */
const UNARY = {
  neg: { domain: {}, grad: (gOut) => neg(gOut) }, //                                     d(−x) = −1
  exp: { float: true, domain: {}, grad: (gOut, _x, out) => mul(gOut, out) }, //          d eˣ = eˣ
  log: { float: true, domain: { min: 0.1, max: 3 }, grad: (gOut, x) => div(gOut, x) }, //  d ln x = 1/x
  sqrt: { float: true, domain: { min: 0.2, max: 3 }, grad: (gOut, _x, out) => div(gOut, mul(out, 2)) }, // 1/(2√x)
  abs: { domain: { awayFromZero: 0.25 }, grad: (gOut, x) => mul(gOut, sign(x)) }, //      d |x| = sign x
  tanh: { float: true, domain: {}, grad: (gOut, _x, out) => mul(gOut, sub(1, mul(out, out))) }, // 1 − tanh²x
  sigmoid: { float: true, domain: { min: -5, max: 5 }, grad: (gOut, _x, out) => mul(gOut, mul(out, sub(1, out))) }, // σ(1 − σ)
  // 0 where relu(x) ≤ 0, gOut elsewhere: a NaN input passes its gradient through, as in PyTorch
  relu: { domain: { awayFromZero: 0.25 }, grad: (gOut, _x, out) => where(le(out, 0), 0, gOut) },
  sin: { float: true, domain: { min: -4, max: 4 }, grad: (gOut, x) => mul(gOut, cos(x)) }, //  d sin x = cos x
  cos: { float: true, domain: { min: -4, max: 4 }, grad: (gOut, x) => neg(mul(gOut, sin(x))) }, // d cos x = −sin x
  sign: { bool: true, domain: { awayFromZero: 0.25 }, grad: (gOut) => mul(gOut, 0) }, //  0 almost everywhere
} satisfies Record<string, UnaryDef>;

/** The name of a unary elementwise op (the keys of the unary table). @example const op: UnaryOp = 'tanh'; */
export type UnaryOp = keyof typeof UNARY;
/** The unary elementwise ops' names, in table order. @example UNARY_OPS.includes('exp') // true */
export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];

type BinaryGrads = (gOut: Tensor, a: Tensor, b: Tensor, out: Tensor) => { a: () => Tensor; b: () => Tensor };

interface BinaryDef {
  readonly grads: BinaryGrads;
  readonly domain: readonly [Domain, Domain];
}

/**
 * Binary arithmetic ops; operands broadcast, and the engine sums gradients back to their shapes.
 * Both operands are first cast to the promoted dtype, so the op (and its gradient) sees the values
 * PyTorch computes with.
 */
const BINARY = {
  add: { domain: [{}, {}], grads: (gOut) => ({ a: () => gOut, b: () => gOut }) },
  sub: { domain: [{}, {}], grads: (gOut) => ({ a: () => gOut, b: () => neg(gOut) }) },
  mul: { domain: [{}, {}], grads: (gOut, a, b) => ({ a: () => mul(gOut, b), b: () => mul(gOut, a) }) },
  div: {
    domain: [{}, { awayFromZero: 0.5 }],
    grads: (gOut, _a, b, out) => ({ a: () => div(gOut, b), b: () => neg(div(mul(gOut, out), b)) }), // −a/b²
  },
  // d aᵇ/da = b·aᵇ⁻¹, taken as 0 where b = 0 (a⁰ = 1 is flat even at a = 0, where 0·0⁻¹ is NaN);
  // d aᵇ/db = aᵇ·ln a, taken as 0 where a = 0 and b ≥ 0 (both as PyTorch does)
  pow: {
    domain: [{ min: 0.3, max: 2 }, {}],
    grads: (gOut, a, b, out) => ({
      a: () => where(eq(b, 0), 0, mul(gOut, mul(b, pow(a, sub(b, 1))))),
      b: () => where(logicalAnd(eq(a, 0), ge(b, 0)), 0, mul(gOut, mul(out, log(a)))),
    }),
  },
  // PyTorch's split: gOut to the larger operand, half each on a tie, and gOut to both where either
  // is NaN (neither is smaller, and NaN ≠ NaN is no tie)
  maximum: {
    domain: [{ distinct: true }, { distinct: true }],
    grads: (gOut, a, b) => ({ a: () => tieSplit(gOut, lt(a, b), eq(a, b)), b: () => tieSplit(gOut, gt(a, b), eq(a, b)) }),
  },
  minimum: {
    domain: [{ distinct: true }, { distinct: true }],
    grads: (gOut, a, b) => ({ a: () => tieSplit(gOut, gt(a, b), eq(a, b)), b: () => tieSplit(gOut, lt(a, b), eq(a, b)) }),
  },
} satisfies Record<string, BinaryDef>;

/** The name of a binary arithmetic op. @example const op: BinaryOp = 'add'; */
export type BinaryOp = keyof typeof BINARY;
/**
 * The binary arithmetic ops' names, in table order.
 * @example
 * BINARY_OPS // ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum']
 */
export const BINARY_OPS = Object.keys(BINARY) as BinaryOp[];

/** Comparisons: bool outputs, no gradient. @example COMPARISON_OPS.length // 6 */
export const COMPARISON_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** The name of a comparison op. @example const op: ComparisonOp = 'lt'; */
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

/**
 * Every elementwise op of the table.
 * @example
 * const ops: ElementwiseOp[] = [...UNARY_OPS, ...BINARY_OPS, ...COMPARISON_OPS];
 */
export type ElementwiseOp = UnaryOp | BinaryOp | ComparisonOp;

// ---- the machinery behind the tables ------------------------------------------------------------

/**
 * A stride-0 view of `t` broadcast to `shape` (no graph: used inside forwards).
 * @example
 * broadcastView(tensor([1, 2, 3]), [2, 3]).strides // [0, 1]
 */
export function broadcastView(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = shape.length - t.ndim;
  const strides = shape.map((d, i) => {
    const j = i - lead;
    return j < 0 || (t.shape[j] === 1 && d !== 1) ? 0 : t.strides[j];
  });
  return new Tensor(t.storage, [...shape], strides, t.offset);
}

/**
 * A JS number as a 0-d tensor of `dtype`. Into bool it is true when non-zero; into int32 it is
 * truncated toward 0, and one out of int32's range (or NaN, ±∞) is an error naming `op`, as
 * PyTorch's "cannot be converted without overflow".
 */
export function scalarTensor(value: number | boolean, dtype: DType, op = 'tensor'): Tensor {
  const data = allocate(dtype, 1);
  data[0] = storedValue(op, dtype, Number(value));
  return new Tensor(new CpuStorage(data, dtype), []);
}

const isScalar = (v: unknown): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';

/**
 * Turn two operands into tensors; a number takes the tensor's dtype where that loses nothing.
 * Two bare numbers become float32, or, with `inferBoth`, take their own dtypes (bool, int32, float32).
 */
function operands(op: string, a: unknown, b: unknown, inferBoth = false): [Tensor, Tensor] {
  for (const [name, v] of [['a', a], ['b', b]] as const) {
    if (!(v instanceof Tensor) && !isScalar(v)) {
      throw new WedgeError(`${op}: operand ${name} must be a Tensor, a number or a boolean, got ${describeValue(v)}`);
    }
  }
  if (a instanceof Tensor && b instanceof Tensor) return [a, b];
  if (a instanceof Tensor) return [a, scalarTensor(b as number, scalarDType(a.dtype, b as number), op)];
  if (b instanceof Tensor) return [scalarTensor(a as number, scalarDType(b.dtype, a as number), op), b];
  const [x, y] = [a as number | boolean, b as number | boolean];
  if (!inferBoth) return [scalarTensor(x, 'float32', op), scalarTensor(y, 'float32', op)];
  const dtype = promoteTypes(valueDType(x), valueDType(y));
  return [scalarTensor(x, dtype, op), scalarTensor(y, dtype, op)];
}

const unaryOps = {} as Record<UnaryOp, (inputs: readonly Tensor[], attrs: { dtype: DType }) => Tensor>;
for (const name of UNARY_OPS) {
  const { grad } = UNARY[name] as UnaryDef;
  unaryOps[name] = defineOp<{ dtype: DType }>({
    name,
    inputs: ['x'],
    forward: ([x], attrs) => runKernel(name, [x], attrs),
    backward: (gOut, { inputs: [x], out }) => ({ x: () => grad(gOut, x, out) }),
  });
}

function unary(name: UnaryOp, x: unknown): Tensor {
  checkTensor(name, x);
  const def: UnaryDef = UNARY[name];
  const dtype = def.float && !isFloat(x.dtype) ? 'float32' : x.dtype;
  if (dtype === 'bool' && !def.bool) throw new WedgeError(`${name}: not defined for bool tensors (shape ${fmtShape(x.shape)})`);
  return unaryOps[name]([x], { dtype });
}

const binaryOps = {} as Record<BinaryOp | ComparisonOp, (inputs: readonly Tensor[], attrs: { dtype: DType }) => Tensor>;
for (const name of BINARY_OPS) {
  const { grads } = BINARY[name] as BinaryDef;
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
for (const name of COMPARISON_OPS) {
  binaryOps[name] = defineOp<{ dtype: DType }>({
    name,
    inputs: ['a', 'b'],
    forward: ([a, b], attrs) => {
      const shape = broadcastShapes(name, a.shape, b.shape);
      return runKernel(name, [broadcastView(a, shape), broadcastView(b, shape)], attrs);
    },
  });
}

const isComparison = (name: string): name is ComparisonOp => (COMPARISON_OPS as readonly string[]).includes(name);

/**
 * A binary op in PyTorch's order: the result type of the operands (see resultType), both operands
 * cast to the dtype the op computes in, then the kernel. NOTE: the cast comes first so that, e.g.,
 * int32 16777217 == float32 16777216 is true as in PyTorch (both are 16777216 in float32), and
 * maximum(float32, float64 0-d) finds the ties its gradient splits among the float32 values.
 */
function binary(name: BinaryOp | ComparisonOp, a: unknown, b: unknown): Tensor {
  const [ta, tb] = operands(name, a, b);
  const shape = broadcastShapes(name, ta.shape, tb.shape); // checked here, before any kernel runs
  let compute = resultType(ta, tb);
  if (name === 'div' && !isFloat(compute)) compute = 'float32'; // true division, as torch.div
  else if (compute === 'bool' && !isComparison(name) && name !== 'maximum' && name !== 'minimum') compute = 'int32';
  if (name === 'pow' && compute === 'int32') checkIntegerExponent(ta, tb);
  checkSize(name, shape, compute);
  return binaryOps[name]([cast(ta, compute), cast(tb, compute)], { dtype: isComparison(name) ? 'bool' : compute });
}

/** PyTorch refuses integers to negative integer powers (the result is not an integer). */
function checkIntegerExponent(base: Tensor, exponent: Tensor): void {
  const values = exponent.data();
  const at = values.findIndex((v) => v < 0);
  if (at >= 0) {
    throw new WedgeError(
      `pow: integers to negative integer powers are not allowed (exponent ${values[at]}` +
        `${exponent.ndim > 0 ? ` at position ${fmtShape(unravelIndex(at, exponent.shape))}` : ''}, ` +
        `base ${base.dtype} ${fmtShape(base.shape)}); cast the base to float first`,
    );
  }
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

/** Throw `op: expected a Tensor, got …` unless `x` is one (the public ops' first check). */
export function checkTensor(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new WedgeError(`${op}: expected a Tensor, got ${describeValue(x)}`);
}

/** gOut, but 0 where the operand `lost` and half of it where it `tied`. */
const tieSplit = (gOut: Tensor, lost: Tensor, tied: Tensor): Tensor => where(lost, 0, where(tied, mul(gOut, 0.5), gOut));

// ---- the public functions -----------------------------------------------------------------------

/** a + b, broadcasting. @example add(x, 1) */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a − b, broadcasting. @example sub(x, x.mean(-1, true)) */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a · b, broadcasting. @example mul(x, 0.5) */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b (true division: integer inputs give float32). @example div(tensor([1, 2]), 2) // [0.5, 1] */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** aᵇ with a tensor or scalar exponent. @example pow(x, 2) */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** Elementwise maximum (NaN propagates). @example maximum(x, 0) // ReLU */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** Elementwise minimum (NaN propagates). @example minimum(x, 1) */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
/** a == b elementwise, broadcasting, as a bool tensor. @example eq(argmax(logits, -1), targets) */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
/** a != b elementwise, broadcasting, as a bool tensor. @example ne(ids, 0) */
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
/** a < b elementwise, broadcasting, as a bool tensor. @example lt(x, 0) */
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
/** a ≤ b elementwise, broadcasting, as a bool tensor. @example le(x, 1) */
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
/** a > b elementwise, broadcasting, as a bool tensor. @example gt(x, 0) */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
/** a ≥ b elementwise, broadcasting, as a bool tensor. @example ge(x, 0) */
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);

/** −x. Derivative: −1. @example neg(x) */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** eˣ. Derivative: eˣ. @example exp(tensor([0, 1])) // [1, 2.718…] */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural log. Derivative: 1/x. @example log(softmax(x, -1)) */
export const log = (x: Tensor): Tensor => unary('log', x);
/** √x. Derivative: 1/(2√x). @example sqrt(tensor([4, 9])) // [2, 3] */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** |x|. Derivative: sign(x) (0 at 0, as PyTorch). @example abs(tensor([-2, 3])) // [2, 3] */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** tanh x. Derivative: 1 − tanh²x. @example tanh(x) */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** 1 / (1 + e⁻ˣ). Derivative: σ(x)(1 − σ(x)). @example sigmoid(logits) */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** max(x, 0). Derivative: 1 where x > 0, else 0. @example relu(matmul(x, w)) */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** sin x. Derivative: cos x. @example sin(linspace(0, Math.PI, 5)) */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** cos x. Derivative: −sin x. @example cos(linspace(0, Math.PI, 5)) */
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** −1, 0 or 1 by sign (0 for NaN, as PyTorch). Derivative: 0. @example sign(tensor([-3, 0, 2])) // [-1, 0, 1] */
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** x² (composite: its gradient comes from mul). @example square(sub(pred, target)).mean() */
export const square = (x: Tensor): Tensor => mul(x, x);

/** One row of ELEMENTWISE_OPS. @example const { kind, fn } = ELEMENTWISE_OPS.exp; // 'unary', exp */
export interface ElementwiseOpInfo {
  readonly kind: 'unary' | 'binary' | 'comparison';
  /** The public free function (a Tensor method of the same name calls it). */
  readonly fn: ((x: Tensor) => Tensor) | ((a: TensorLike, b: TensorLike) => Tensor);
  /** Per operand, the values its gradient is smooth on. */
  readonly domain: readonly Domain[];
}

/**
 * Every op of the tables with its free function and the values its gradient is smooth on. The
 * compiler insists on a free function per table name; tests iterate this rather than a list of their own.
 * @example for (const [name, info] of Object.entries(ELEMENTWISE_OPS)) console.log(name, info.kind);
 */
export const ELEMENTWISE_OPS: Readonly<Record<ElementwiseOp, ElementwiseOpInfo>> = {
  ...entries('unary', { neg, exp, log, sqrt, abs, tanh, sigmoid, relu, sin, cos, sign } satisfies Record<UnaryOp, unknown>),
  ...entries('binary', { add, sub, mul, div, pow, maximum, minimum } satisfies Record<BinaryOp, unknown>),
  ...entries('comparison', { eq, ne, lt, le, gt, ge } satisfies Record<ComparisonOp, unknown>),
};

function entries<K extends ElementwiseOp>(kind: ElementwiseOpInfo['kind'], fns: Record<K, ElementwiseOpInfo['fn']>): Record<K, ElementwiseOpInfo> {
  const domainOf = (name: string): readonly Domain[] =>
    kind === 'unary' ? [(UNARY as Record<string, UnaryDef>)[name].domain] : kind === 'binary' ? (BINARY as Record<string, BinaryDef>)[name].domain : [{}, {}];
  return Object.fromEntries(Object.entries(fns).map(([name, fn]) => [name, { kind, fn, domain: domainOf(name) }])) as Record<K, ElementwiseOpInfo>;
}

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

/**
 * The same values as `dtype` (returns `x` itself when it already is). Float→int truncates toward 0.
 * @example
 * cast(tensor([1.7, -1.7]), 'int32') // [1, -1]
 */
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
 * condition ? a : b, elementwise with broadcasting. `condition` must be bool. The result type is
 * PyTorch's: a number takes a tensor operand's dtype where that loses nothing; two numbers give
 * bool (two booleans), int32 (integers) or float32.
 * @example where(x.gt(0), x, 0) // relu
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(condition instanceof Tensor)) throw new WedgeError(`where: condition must be a bool Tensor, got ${describeValue(condition)}`);
  if (condition.dtype !== 'bool') {
    throw new WedgeError(`where: condition must be bool, got ${condition.dtype} ${fmtShape(condition.shape)}`);
  }
  const [ta, tb] = operands('where', a, b, true);
  const shape = broadcastShapes('where', condition.shape, ta.shape, tb.shape);
  const dtype = resultType(ta, tb);
  checkSize('where', shape, dtype);
  return whereOp([condition, ta, tb], { dtype });
}

/**
 * x with `value` where `mask` is true; `mask` must broadcast to x's shape (torch.masked_fill).
 * @example scores.maskedFill(causal.eq(0), -Infinity)
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | boolean): Tensor {
  checkTensor('maskedFill', x);
  checkTensor('maskedFill', mask);
  if (!isScalar(value)) throw new WedgeError(`maskedFill: value must be a number or a boolean, got ${describeValue(value)}`);
  if (mask.dtype !== 'bool') {
    throw new WedgeError(`maskedFill: mask must be bool, got ${mask.dtype} ${fmtShape(mask.shape)}`);
  }
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (!sameShape(shape, x.shape)) {
    throw new WedgeError(
      `maskedFill: mask ${fmtShape(mask.shape)} must broadcast to the input's shape ${fmtShape(x.shape)}, not widen it to ${fmtShape(shape)}`,
    );
  }
  return where(mask, scalarTensor(value, x.dtype, 'maskedFill'), x);
}
