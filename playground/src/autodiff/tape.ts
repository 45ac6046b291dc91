// Runs a parsed program with Wedge (float64), then walks its tape backward one node at a time with
// the nodes' own backward functions, as the engine does, recording what each node receives and
// sends. Every gradient is checked against central finite differences of the whole program, and
// the leaves' gradients against Wedge's own backward() on a fresh copy. No DOM: tested in Node.
import { Tensor, WedgeError, fmtShape, maximum, minimum, noGrad, onesLike, sumToShape, toDot, topologicalOrder } from '@wedge/core';
import type { Expr, Program } from './parser.ts';

interface Built {
  output: Tensor;
  /** The output, or its sum when it has more than one element. */
  loss: Tensor;
  summed: boolean;
  leaves: Map<string, Tensor>;
  /** The expression that produced each tensor (absent for tensors an op made internally). */
  exprOf: Map<Tensor, Expr>;
  names: Map<Tensor, string>;
}

/** Replace the value an expression produces (for finite differences of intermediate nodes). */
type Override = { id: number; values: Float64Array } | null;

const f64 = (values: ArrayLike<number>, shape: readonly number[]): Tensor => Tensor.fromArray(Float64Array.from(values), [...shape], 'float64');

function build(program: Program, requiresGrad: boolean, override: Override = null): Built {
  const env = new Map<string, Tensor>();
  const exprOf = new Map<Tensor, Expr>();
  const names = new Map<Tensor, string>();
  const leaves = new Map<string, Tensor>();
  const leafNames = new Set(program.leaves);
  let leafExpr: string | null = null; // the name being defined, while its literal is the leaf

  const fail = (e: Expr, msg: string): never => {
    throw new WedgeError(`${e.text}: ${msg}`);
  };
  const evalExpr = (e: Expr): Tensor => {
    let t: Tensor;
    switch (e.kind) {
      case 'literal':
        t = f64(e.values, e.shape);
        if (leafExpr !== null && requiresGrad) t.requiresGrad = true;
        break;
      case 'var':
        return env.get(e.name)!;
      case 'neg':
        t = evalExpr(e.arg).neg();
        break;
      case 'transpose': {
        const x = evalExpr(e.arg);
        if (x.ndim < 2) fail(e, `.T needs at least 2 dimensions, got shape ${fmtShape(x.shape)}`);
        t = x.mT;
        break;
      }
      case 'binary': {
        const a = evalExpr(e.left);
        const b = evalExpr(e.right);
        t = e.op === 'matmul' ? a.matmul(b) : a[e.op](b);
        break;
      }
      case 'call': {
        const x = evalExpr(e.args[0]);
        const dim = e.args.length > 1 && e.args[1].kind === 'literal' ? e.args[1].values[0] : undefined;
        switch (e.fn) {
          case 'sum': t = dim === undefined ? x.sum() : x.sum(dim); break;
          case 'mean': t = dim === undefined ? x.mean() : x.mean(dim); break;
          case 'softmax': t = x.softmax(dim ?? -1); break;
          case 'logsoftmax': t = x.logSoftmax(dim ?? -1); break;
          case 'maximum': t = maximum(x, evalExpr(e.args[1])); break;
          case 'minimum': t = minimum(x, evalExpr(e.args[1])); break;
          default: t = x[e.fn]();
        }
        break;
      }
    }
    if (override !== null && override.id === e.id) t = f64(override.values, t.shape);
    if (!exprOf.has(t)) exprOf.set(t, e);
    return t;
  };

  let output: Tensor | null = null;
  for (const s of program.statements) {
    leafExpr = s.name !== null && leafNames.has(s.name) ? s.name : null;
    const t = evalExpr(s.expr);
    output = t;
    leafExpr = null;
    if (s.name !== null) {
      env.set(s.name, t);
      if (!names.has(t)) names.set(t, s.name);
      if (leafNames.has(s.name)) leaves.set(s.name, t);
    }
  }
  if (output === null) throw new WedgeError('the program is empty');
  const summed = output.size !== 1;
  const loss = summed ? output.sum() : output;
  if (summed) names.set(loss, 'L');
  else if (!names.has(loss)) names.set(loss, 'L');
  return { output, loss, summed, leaves, exprOf, names };
}

/** The local derivative each op's backward applies, per input (`gOut`: the incoming gradient). */
export const LOCAL_DERIVATIVES: Record<string, Record<string, string>> = {
  add: { a: 'gOut', b: 'gOut' },
  sub: { a: 'gOut', b: '−gOut' },
  mul: { a: 'gOut · b', b: 'gOut · a' },
  div: { a: 'gOut / b', b: '−gOut · out / b   (= −gOut · a / b²)' },
  pow: { a: 'gOut · b · a^(b−1)', b: 'gOut · out · ln a' },
  maximum: { a: 'gOut where a > b (½ on ties)', b: 'gOut where b > a (½ on ties)' },
  minimum: { a: 'gOut where a < b (½ on ties)', b: 'gOut where b < a (½ on ties)' },
  neg: { x: '−gOut' },
  exp: { x: 'gOut · out   (d eˣ = eˣ)' },
  log: { x: 'gOut / x' },
  sqrt: { x: 'gOut / (2 · out)' },
  abs: { x: 'gOut · sign(x)' },
  tanh: { x: 'gOut · (1 − out²)' },
  sigmoid: { x: 'gOut · out · (1 − out)' },
  relu: { x: 'gOut · [out > 0]' },
  sin: { x: 'gOut · cos x' },
  cos: { x: '−gOut · sin x' },
  matmul: { a: 'gOut @ bᵀ', b: 'aᵀ @ gOut' },
  sum: { x: 'gOut, broadcast back to x’s shape' },
  expand: { x: 'gOut, summed over the broadcast axes' },
  reshape: { x: 'gOut, reshaped back to x’s shape' },
  permute: { x: 'gOut, permuted back' },
  softmax: { x: 'out · (gOut − Σⱼ gOut · out)' },
  logSoftmax: { x: 'gOut − softmax(x) · Σⱼ gOut' },
  contiguous: { x: 'gOut' },
  clone: { x: 'gOut' },
  cast: { x: 'gOut (cast back)' },
};

export interface InputGradient {
  /** The op's name for this input (a, b, x, …). */
  inputName: string;
  /** The input's label (its name, or its op). */
  label: string;
  shape: number[];
  formula: string;
  /** What this node sends to the input, already summed to the input's shape. */
  gradient: number[];
  /** Whether the engine had to sum a broadcast gradient back to the input's shape. */
  unbroadcast: boolean;
}

export interface BackwardStep {
  /** toDot's node id (t0, t1, … in topological order). */
  dotId: string;
  label: string;
  op: string | null;
  shape: number[];
  value: number[];
  /** ∂L/∂(this tensor): the sum of what its consumers sent. */
  gOut: number[];
  /** The same by central finite differences of the whole program (null: a tensor made inside an op). */
  numeric: number[] | null;
  /** max |gOut − numeric| / (1 + |numeric|), or null. */
  error: number | null;
  sends: InputGradient[];
}

export interface Trace {
  steps: BackwardStep[];
  dot: string;
  /** The output was not a scalar, so L = sum(output). */
  summed: boolean;
  loss: number;
  /** The leaves' gradients by this step-by-step walk, by Wedge's backward(), and by finite differences. */
  leaves: { name: string; shape: number[]; walk: number[]; engine: number[]; numeric: number[] }[];
}

/** Tolerance of the finite-difference check (float64, central differences, step 1e-6). */
export const FD_TOLERANCE = 1e-6;

const labelOf = (b: Built, t: Tensor): string => b.names.get(t) ?? (t.node ? t.node.op : t.ndim === 0 ? String(t.item()) : 'const');

/**
 * Build, walk and check. Throws a WedgeError (from the op, naming shapes) for programs Wedge rejects.
 * @example trace(parse('x = 2\nx * x')).leaves[0].walk // [4]
 */
export function trace(program: Program): Trace {
  const b = build(program, true);
  if (!b.loss.requiresGrad) throw new WedgeError('the output does not depend on any leaf');
  const order = topologicalOrder(b.loss);
  const dot = toDot(b.loss, b.names);
  const lossAt = (override: Override): number => noGrad(() => build(program, false, override).loss.item());
  const numericGrad = (t: Tensor): number[] | null => {
    if (t === b.loss) return [1];
    const e = b.exprOf.get(t);
    if (e === undefined) return null;
    const v = Float64Array.from(t.data());
    return Array.from(v, (x, k) => {
      const h = 1e-6 * Math.max(1, Math.abs(x));
      const plus = Float64Array.from(v);
      plus[k] = x + h;
      const minus = Float64Array.from(v);
      minus[k] = x - h;
      return (lossAt({ id: e.id, values: plus }) - lossAt({ id: e.id, values: minus })) / (2 * h);
    });
  };

  const steps: BackwardStep[] = [];
  const grads = new Map<Tensor, Tensor>([[b.loss, onesLike(b.loss)]]);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const gOut = grads.get(t);
      if (gOut === undefined) continue;
      const node = t.node;
      const sends: InputGradient[] = [];
      if (node !== null && node.backward !== null) {
        const thunks = node.backward(gOut);
        node.inputs.forEach((x, k) => {
          if (!x.requiresGrad) return;
          const inputName = node.inputNames[k];
          const thunk = thunks[inputName];
          if (thunk === undefined) return;
          const raw = thunk();
          const unbroadcast = raw.shape.join() !== x.shape.join();
          const g = unbroadcast ? sumToShape(raw, x.shape) : raw;
          const previous = grads.get(x);
          grads.set(x, previous === undefined ? g : previous.add(g));
          sends.push({
            inputName,
            label: labelOf(b, x),
            shape: [...x.shape],
            formula: LOCAL_DERIVATIVES[node.op]?.[inputName] ?? `see ${node.op}'s backward in @wedge/core`,
            gradient: Array.from(g.data()),
            unbroadcast,
          });
        });
      }
      const numeric = numericGrad(t);
      const analytic = Array.from(gOut.data());
      const error = numeric === null ? null : Math.max(0, ...analytic.map((a, k) => Math.abs(a - numeric[k]) / (1 + Math.abs(numeric[k]))));
      steps.push({ dotId: `t${i}`, label: labelOf(b, t), op: node?.op ?? null, shape: [...t.shape], value: Array.from(t.data()), gOut: analytic, numeric, error, sends });
    }
  });

  const fresh = build(program, true);
  fresh.loss.backward();
  const leaves = program.leaves.map((name) => {
    const walked = grads.get(b.leaves.get(name)!);
    const leaf = b.leaves.get(name)!;
    const zeros = new Array<number>(leaf.size).fill(0);
    return {
      name,
      shape: [...leaf.shape],
      walk: walked ? Array.from(walked.data()) : zeros,
      engine: fresh.leaves.get(name)!.grad ? Array.from(fresh.leaves.get(name)!.grad!.data()) : zeros,
      numeric: numericGrad(leaf) ?? zeros,
    };
  });
  return { steps, dot, summed: b.summed, loss: b.loss.item(), leaves };
}
