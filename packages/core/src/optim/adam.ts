// Adam and AdamW, step for step as torch.optim (1.13, _single_tensor_adam / _single_tensor_adamw)
// computes them, down to where each float32 operation rounds.
import { WedgeError, describeValue } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { Optimizer, addScaled, addcdiv, addcmul, type Group, type ParamGroup } from './optimizer.ts';

/**
 * torch.optim.Adam's hyperparameters: `lr`, `betas`, `eps`, `weightDecay`, `amsgrad`, `maximize`.
 * @example
 * new Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.98] })
 */
export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay θ ← θ(1 − η·λ). */
  weightDecay: number;
  /** Normalise by the running maximum of the second moment (Reddi et al.). */
  amsgrad: boolean;
  maximize: boolean;
}

/**
 * The shared update. With g the gradient (plus λθ for Adam), t the step:
 *   m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  v̂ ← max(v̂, v) with amsgrad
 *   θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * NOTE: ε is added after dividing √v by √(1 − β₂ᵗ), exactly where PyTorch adds it.
 */
abstract class AdamBase extends Optimizer<AdamOptions> {
  constructor(name: string, params: Iterable<Tensor> | ParamGroup<AdamOptions>[], defaults: AdamOptions, private readonly decoupled: boolean) {
    super(name, params, defaults);
  }

  protected validate(g: Group<AdamOptions>): void {
    if (!Array.isArray(g.betas) || g.betas.length !== 2) {
      throw new WedgeError(`${this.name}: betas must be a pair [beta1, beta2], got ${describeValue(g.betas)}`);
    }
    const [b1, b2] = g.betas;
    if (!(g.lr >= 0)) throw new WedgeError(`${this.name}: invalid learning rate ${g.lr}`);
    if (!(g.eps >= 0)) throw new WedgeError(`${this.name}: invalid epsilon ${g.eps}`);
    if (!(b1 >= 0 && b1 < 1)) throw new WedgeError(`${this.name}: invalid beta parameter at index 0: ${b1}`);
    if (!(b2 >= 0 && b2 < 1)) throw new WedgeError(`${this.name}: invalid beta parameter at index 1: ${b2}`);
    if (!(g.weightDecay >= 0)) throw new WedgeError(`${this.name}: invalid weightDecay ${g.weightDecay}`);
  }

  step(): void {
    for (const group of this.paramGroups) {
      const { lr, eps, weightDecay, amsgrad, maximize } = group;
      const [beta1, beta2] = group.betas;
      for (const { param, data, at, grad, state, round: r } of this.withGrads(group)) {
        const b = state.buffers;
        const m = (b.exp_avg ??= Optimizer.zerosFor(param));
        const v = (b.exp_avg_sq ??= Optimizer.zerosFor(param));
        const vMax = amsgrad ? (b.max_exp_avg_sq ??= Optimizer.zerosFor(param)) : null;
        state.step++;
        // Python floats (double), as in PyTorch; each becomes float32 where a kernel takes it.
        const step = state.step;
        const biasCorrection1 = 1 - beta1 ** step;
        const biasCorrection2 = 1 - beta2 ** step;
        const stepSize = lr / biasCorrection1;
        const bc2Sqrt = r(Math.sqrt(biasCorrection2));
        const decay = r(1 - lr * weightDecay);
        const wd = r(weightDecay);
        const [b1, omb1, b2, omb2] = [r(beta1), r(1 - beta1), r(beta2), r(1 - beta2)];
        const negStep = r(-stepSize);
        const epsR = r(eps);
        for (let i = 0; i < grad.length; i++) {
          const k = at(i);
          let g = maximize ? -grad[i] : grad[i];
          if (this.decoupled) data[k] = r(data[k] * decay); // param.mul_(1 − lr·wd)
          else if (weightDecay !== 0) g = addScaled(r, g, wd, data[k]); // grad.add(param, alpha=wd)
          m[i] = addScaled(r, r(m[i] * b1), omb1, g); // exp_avg.mul_(β₁).add_(g, alpha=1−β₁)
          v[i] = addcmul(r, r(v[i] * b2), omb2, g, g); // exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1−β₂)
          let second = v[i];
          if (vMax !== null) second = vMax[i] = Math.max(vMax[i], v[i]);
          const denom = r(r(r(Math.sqrt(second)) / bc2Sqrt) + epsR); // (√v / √bc₂).add_(eps)
          data[k] = addcdiv(r, data[k], negStep, m[i], denom); // param.addcdiv_(m, denom, value=−step_size)
        }
      }
    }
  }
}

/**
 * PyTorch's Adam (weight decay as an L2 term in the gradient).
 * @example const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends AdamBase {
  constructor(params: Iterable<Tensor> | ParamGroup<AdamOptions>[], opts: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...opts }, false);
  }
}

/**
 * PyTorch's AdamW (decoupled weight decay, default 1e-2).
 * @example const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.1 });
 */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Tensor> | ParamGroup<AdamOptions>[], opts: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...opts }, true);
  }
}
