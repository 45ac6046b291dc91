// A node of the tape: the op that made a tensor, its inputs, and how to send a gradient back to them.
import type { Tensor } from '../tensor.ts';

/**
 * One thunk per input, keyed by the input's name; a missing key means "no gradient".
 * @example
 * const grads: InputGrads = { a: () => gOut, b: () => neg(gOut) }; // sub
 */
export type InputGrads = Record<string, (() => Tensor) | undefined>;

/**
 * A tape node: the op that made a tensor, its inputs, and the backward that sends a gradient to them.
 * @example
 * loss.node?.op; loss.node?.inputs.length
 */
export interface Node {
  readonly op: string;
  readonly inputNames: readonly string[];
  readonly inputs: readonly Tensor[];
  /** Given the gradient of the output (`gOut`), the gradient of each input. */
  backward: ((gOut: Tensor) => InputGrads) | null;
  /** Set once backward() has run through this node without retainGraph. */
  freed: boolean;
}
