// Second-order gradient check: the Hessian-vector product from backward({createGraph: true}) then a
// second backward, against central finite differences of first gradients.
import { Generator, Tensor, enableGrad, noGrad, tensor } from '@wedge/core';

export interface SecondOrderMismatch {
  input: number;
  flatIndex: number;
  numeric: number;
  analytic: number;
}

/** Weights drawn once per check: L = Σ w ⊙ f(x), and S = Σᵢ vᵢ ⊙ ∂L/∂xᵢ. */
function weights(g: Generator, n: number): number[] {
  return Array.from({ length: n }, () => g.nextNormal());
}

const dot = (t: Tensor, w: readonly number[]): Tensor => t.mul(tensor([...w], { dtype: t.dtype, shape: [...t.shape] })).sum();

/**
 * First gradients ∂L/∂xᵢ of L = Σ w ⊙ f(xs) on fresh leaves with the given values; with
 * `createGraph` they stay differentiable functions of those leaves.
 */
function firstGrads(f: (...xs: Tensor[]) => Tensor, leaves: Tensor[], w: readonly number[], createGraph: boolean): (Tensor | null)[] {
  return enableGrad(() => {
    for (const x of leaves) x.grad = null;
    dot(f(...leaves), w).backward(undefined, { createGraph });
    return leaves.map((x) => (x.requiresGrad ? (x.grad ?? x.detach().mul(0)) : null));
  });
}

/**
 * Compare ∂S/∂xⱼ (S = Σᵢ vᵢ ⊙ ∂L/∂xᵢ, so ∂S/∂x = H·v) from a double backward with
 * (S(x + eps) − S(x − eps)) / 2eps. Inputs are float64; returns the first mismatch or null.
 */
export function findSecondOrderMismatch(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  { eps = 1e-5, atol = 1e-4, rtol = 1e-3, seed = 1 } = {},
): SecondOrderMismatch | null {
  const g = new Generator(seed);
  // float64 inputs are the variables; others (int32 indices) pass through unchanged
  const variable = inputs.map((x) => x.dtype === 'float64');
  const values = inputs.map((x) => Array.from(x.data() as Float64Array));
  const leavesOf = (vals: number[][]): Tensor[] =>
    vals.map((v, i) => (variable[i] ? tensor(v, { dtype: 'float64', shape: [...inputs[i].shape], requiresGrad: true }) : inputs[i]));
  const y0 = noGrad(() => f(...leavesOf(values)));
  const w = weights(g, y0.size);
  const v = inputs.map((x) => weights(g, x.size));
  const S = (grads: (Tensor | null)[]): Tensor =>
    grads.flatMap((gr, i) => (gr === null ? [] : [dot(gr, v[i])])).reduce((a, b) => a.add(b));

  // analytic: differentiate S, built from graph-carrying first gradients, once more
  const leaves = leavesOf(values);
  const s = S(firstGrads(f, leaves, w, true));
  for (const x of leaves) x.grad = null;
  const analytic = s.requiresGrad
    ? (s.backward(), leaves.map((x) => (x.grad ? Array.from(x.grad.data()) : new Array<number>(x.size).fill(0))))
    : leaves.map((x) => new Array<number>(x.size).fill(0)); // S does not depend on x: a zero Hessian

  for (let j = 0; j < inputs.length; j++) {
    if (!variable[j]) continue;
    for (let k = 0; k < values[j].length; k++) {
      const at = (delta: number): number => {
        const vals = values.map((row) => row.slice());
        vals[j][k] += delta;
        return S(firstGrads(f, leavesOf(vals), w, false)).item();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = analytic[j][k];
      if (!(Math.abs(numeric - a) <= atol + rtol * Math.abs(numeric))) return { input: j, flatIndex: k, numeric, analytic: a };
    }
  }
  return null;
}
