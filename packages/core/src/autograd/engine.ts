// The reverse sweep. One topological sort of the tensors that need gradients, then one loop from
// the output back to the leaves. Each node turns the gradient of its output (`gOut`) into gradients
// of its inputs; the engine, and only the engine, sums broadcast gradients back to input shapes.
import { WedgeError, fmtShape } from '../errors.ts';
import { sameShape } from '../shape.ts';
import type { Tensor } from '../tensor.ts';
import { withGradMode } from './grad_mode.ts';
import { add, cast } from '../ops/elementwise.ts';
import { sumToShape } from '../ops/reduce.ts';
import { clone } from '../ops/movement.ts';
import { onesLike } from '../creation.ts';
import { nonDifferentiableOrigin } from '../ops/define.ts';

/**
 * Options of backward(): `retainGraph` keeps the tape for a second sweep, `createGraph` records the backward
 * itself (gradients of gradients).
 * @example
 * loss.backward(undefined, { createGraph: true })
 */
export interface BackwardOptions {
  /** Keep the graph so that backward() can run through it again. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so gradients can be differentiated again. Implies retainGraph. */
  createGraph?: boolean;
}

/**
 * Tensors reachable from `root` through inputs that require grad, each after all of its inputs.
 * @example
 * topologicalOrder(loss).map((t) => t.gradFn)
 */
export function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS (a deep graph must not overflow the JS stack): [tensor, next input to visit].
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const x = inputs[i];
      if (x.requiresGrad && !visited.has(x)) {
        visited.add(x);
        stack.push([x, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order;
}

/**
 * Accumulate `g` into `t.grad` (PyTorch's AccumulateGrad).
 * NOTE: the first gradient is copied: ops pass gOut through unchanged (add, expand, reshape), so
 * without the copy two leaves' grads, or a grad and the caller's `gradient`, would share storage,
 * and an in-place update of one (gradient clipping) would change the other.
 */
function accumulate(t: Tensor, g: Tensor, keepGraph: boolean): void {
  const stored = keepGraph ? g : clone(g.detach());
  t.grad = t.grad === null ? stored : add(t.grad, stored);
}

/**
 * Reverse-mode sweep from `root` (what tensor.backward() calls): gradients accumulate into the leaves' `.grad`.
 * @example
 * backward(loss); backward(y, onesLike(y), { retainGraph: true })
 */
export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  if (!root.requiresGrad) {
    const cut = nonDifferentiableOrigin(root);
    if (cut !== undefined) {
      throw new WedgeError(
        `backward: tensor of shape ${fmtShape(root.shape)} does not require grad: the tensors that require grad ` +
          `reach it only through ${cut}, which has no gradient`,
      );
    }
    throw new WedgeError(
      `backward: tensor of shape ${fmtShape(root.shape)} does not require grad and has no grad_fn ` +
        `(set requiresGrad on a leaf it depends on)`,
    );
  }
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new WedgeError(
        `backward: a gradient can be implied only for a one-element output; this one has shape ` +
          `${fmtShape(root.shape)}: pass backward(gradient) with that shape`,
      );
    }
    gradient = onesLike(root);
  } else if (!sameShape(gradient.shape, root.shape)) {
    throw new WedgeError(
      `backward: gradient shape ${fmtShape(gradient.shape)} differs from the output's ${fmtShape(root.shape)}`,
    );
  }

  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, gradient]]);
  withGradMode(createGraph, () => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const gOut = grads.get(t);
      if (gOut === undefined) continue;
      grads.delete(t);
      const node = t.node;
      if (node === null || t.retainsGrad) accumulate(t, gOut, createGraph);
      if (node === null) continue;
      if (node.freed || node.backward === null) {
        throw new WedgeError(
          `backward: trying to run backward through ${node.op} a second time, but its graph was freed; ` +
            `pass {retainGraph: true} to the first backward()`,
        );
      }
      const inputGrads = node.backward(gOut);
      node.inputs.forEach((x, k) => {
        if (!x.requiresGrad) return;
        const name = node.inputNames[k];
        const thunk = inputGrads[name];
        if (thunk === undefined) return;
        const g = fitGradient(node.op, name, thunk(), x);
        const previous = grads.get(x);
        grads.set(x, previous === undefined ? g : add(previous, g));
      });
      if (!retainGraph) {
        node.freed = true;
        node.backward = null;
      }
    }
  });
}

/** Un-broadcast `g` to the input's shape and dtype; anything else is a bug in the op's backward. */
function fitGradient(op: string, name: string, g: Tensor, x: Tensor): Tensor {
  let fitted = g;
  if (!sameShape(g.shape, x.shape)) {
    try {
      fitted = sumToShape(g, x.shape);
    } catch {
      throw new WedgeError(
        `backward: ${op} returned a gradient of shape ${fmtShape(g.shape)} for input '${name}' ` +
          `of shape ${fmtShape(x.shape)}`,
      );
    }
  }
  return fitted.dtype === x.dtype ? fitted : cast(fitted, x.dtype);
}
