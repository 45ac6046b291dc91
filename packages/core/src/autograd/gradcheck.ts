// gradcheck: compare backward() with central finite differences, in float64.
import { WedgeError, fmtShape } from '../errors.ts';
import { unravelIndex } from '../shape.ts';
import { CpuStorage } from '../storage.ts';
import { Tensor } from '../tensor.ts';
import { noGrad } from './grad_mode.ts';
import { Generator } from '../random.ts';

/**
 * Tolerances and step of gradcheck(): `eps` (finite-difference step), `atol`, `rtol`.
 * @example
 * gradcheck(f, [a], { eps: 1e-6, atol: 1e-5, rtol: 1e-3 })
 */
export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the random projection of the output. */
  seed?: number;
}

/**
 * The first disagreement findGradMismatch() found: which input, which element, the numeric and the analytic value.
 * @example
 * const m = findGradMismatch(f, [a]); if (m) console.log(m.input, m.index, m.numeric, m.analytic);
 */
export interface GradcheckMismatch {
  input: number;
  index: number[];
  numeric: number;
  analytic: number;
}

/**
 * Check the gradients of `fn` at `inputs` (float64 tensors; those with requiresGrad are checked).
 * The output y is reduced to L = Σ w ⊙ y with a fixed random w, so one backward() gives every
 * ∂L/∂x, and each is compared with (L(x + eps) − L(x − eps)) / 2eps. Throws on the first mismatch,
 * naming the input, the element's index, and both values; returns true otherwise.
 * @example gradcheck((a, b) => a.mul(b).sum(), [a, b])
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): true {
  const mismatch = findGradMismatch(fn, inputs, opts);
  if (mismatch) {
    const { input, index, numeric, analytic } = mismatch;
    throw new WedgeError(
      `gradcheck: gradient of input ${input} ${fmtShape(inputs[input].shape)} at index ${fmtShape(index)}: ` +
        `numeric ${numeric}, analytic ${analytic} (difference ${Math.abs(numeric - analytic)})`,
    );
  }
  return true;
}

/**
 * Like gradcheck, but returns the first mismatch (or null) instead of throwing.
 * @example
 * const m = findGradMismatch((t) => t.exp(), [randn([3], { dtype: 'float64', requiresGrad: true })]); // null
 */
export function findGradMismatch(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckMismatch | null {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0 } = opts;
  inputs.forEach((x, i) => {
    if (x.requiresGrad && x.dtype !== 'float64') {
      throw new WedgeError(`gradcheck: input ${i} ${fmtShape(x.shape)} is ${x.dtype}; finite differences need float64`);
    }
  });
  const y0 = fn(...inputs);
  const g = new Generator(seed);
  const w = new Float64Array(y0.size).map(() => g.nextNormal());
  const weight = new Tensor(new CpuStorage(w, 'float64'), [...y0.shape]);
  const loss = (y: Tensor): number => {
    const d = y.data();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i] * w[i];
    return s;
  };
  for (const x of inputs) x.grad = null;
  if (!y0.requiresGrad) throw new WedgeError('gradcheck: the output does not depend on any input that requires grad');
  y0.backward(weight.to(y0.dtype));

  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (!x.requiresGrad) continue;
    const analytic = x.grad ? x.grad.data() : new Float64Array(x.size);
    // perturb a private contiguous copy, so views and shared storage are left alone
    const base = x.data() as Float64Array;
    for (let k = 0; k < x.size; k++) {
      const at = (delta: number): number => {
        const values = base.slice();
        values[k] += delta;
        const xs = inputs.map((y, j) => (j === i ? new Tensor(new CpuStorage(values, 'float64'), [...x.shape]) : y));
        return noGrad(() => loss(fn(...xs)));
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = analytic[k];
      if (!(Math.abs(numeric - a) <= atol + rtol * Math.abs(numeric)) && !(Number.isNaN(numeric) && Number.isNaN(a))) {
        return { input: i, index: unravelIndex(k, x.shape), numeric, analytic: a };
      }
    }
  }
  return null;
}
