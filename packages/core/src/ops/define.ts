// How an op is declared: a name, its inputs' names, a forward made of kernel calls, and a backward
// written with differentiable ops (so that gradients of gradients work with createGraph).
import type { InputGrads } from '../autograd/node.ts';
import { isGradEnabled } from '../autograd/grad_mode.ts';
import type { Tensor } from '../tensor.ts';

/**
 * What an op's backward receives besides gOut: its inputs, its output and its attributes.
 * @example
 * backward: (gOut, { out }) => ({ x: () => mul(gOut, out) })
 */
export interface SavedContext<A> {
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly attrs: A;
}

/**
 * An op's declaration: name, input names, forward (kernel calls) and backward (differentiable ops, one thunk per
 * input).
 * @example
 * const def: OpDef<void> = { name: 'exp', inputs: ['x'], forward: ([x]) => runKernel('exp', [x]), backward: (gOut, { out }) => ({ x: () => mul(gOut, out) }) };
 */
export interface OpDef<A> {
  readonly name: string;
  /** Names of the inputs, in order; the backward's keys. `'...'` names a variadic list (`x.0`, `x.1`, …). */
  readonly inputs: readonly string[];
  /** Shape checks already done by the caller; computes the output with kernels. */
  forward(inputs: readonly Tensor[], attrs: A): Tensor;
  /** Gradient of each input given the output's gradient `gOut`; absent = not differentiable. */
  backward?(gOut: Tensor, saved: SavedContext<A>): InputGrads;
}

/**
 * Declare an op. The returned function runs the forward and, when any input requires grad and
 * grad mode is on, attaches a tape node to the output.
 * @example
 * const exp = defineOp<void>({ name: 'exp', inputs: ['x'],
 *   forward: ([x]) => unaryKernel('exp', x),
 *   backward: (gOut, { out }) => ({ x: () => mul(gOut, out) }) }); // d/dx eˣ = eˣ
 */
export type OpFn<A> = (inputs: readonly Tensor[], attrs: A) => Tensor;

/**
 * Declare an op (see OpDef): the function it returns runs the forward and records a tape node when an input
 * requires grad.
 * @example
 * const myExp = defineOp<void>({ name: 'exp', inputs: ['x'], forward: ([x]) => runKernel('exp', [x]),
 *   backward: (gOut, { out }) => ({ x: () => mul(gOut, out) }) }); // d/dx eˣ = eˣ
 * myExp([x], undefined)
 */
export function defineOp<A>(def: OpDef<A>): OpFn<A> {
  return (inputs, attrs) => {
    const out = def.forward(inputs, attrs);
    const backward = def.backward;
    if (!backward || !inputs.some((x) => x.requiresGrad)) {
      noteNonDifferentiable(out, def.name, inputs);
    } else if (isGradEnabled()) {
      const names = def.inputs[0] === '...' ? inputs.map((_, i) => `x.${i}`) : def.inputs;
      const saved: SavedContext<A> = { inputs, out, attrs };
      out.node = {
        op: def.name,
        inputNames: names,
        inputs,
        backward: (gOut) => backward(gOut, saved),
        freed: false,
      };
      markRequiresGrad(out);
    }
    return out;
  };
}

/** The output of a recorded op requires grad (bypasses the leaf-only setter checks). */
function markRequiresGrad(t: Tensor): void {
  (t as unknown as { _requiresGrad: boolean })._requiresGrad = true;
}

/**
 * Outputs that depend on tensors requiring grad only through an op without a gradient (argmax, a
 * comparison, a cast to int), keyed to that op's name: backward() names it in its error.
 */
const cutBy = new WeakMap<Tensor, string>();

/** The non-differentiable op that cut `t` off from the graph, if any. */
export const nonDifferentiableOrigin = (t: Tensor): string | undefined => cutBy.get(t);

/**
 * Record that `out` was computed by `op` without a gradient: either `op` has none and one of its
 * inputs requires grad, or an input was itself cut off earlier (the name is passed along).
 */
export function noteNonDifferentiable(out: Tensor, op: string, inputs: readonly Tensor[]): void {
  if (!isGradEnabled() || out.requiresGrad) return;
  const origin = inputs.some((x) => x.requiresGrad) ? op : inputs.map((x) => cutBy.get(x)).find((o) => o !== undefined);
  if (origin !== undefined) cutBy.set(out, origin);
}
