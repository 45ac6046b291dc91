// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, step for
// step as torch.optim.SGD (1.13, _single_tensor_sgd) computes it.
import { WedgeError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { Optimizer, addScaled, type Group, type ParamGroup } from './optimizer.ts';

/**
 * torch.optim.SGD's hyperparameters: `lr`, `momentum`, `dampening`, `weightDecay`, `nesterov`, `maximize`.
 * @example
 * new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
 */
export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** L2 penalty: the gradient gains weightDecay · param. */
  weightDecay: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/**
 * PyTorch's SGD. With momentum μ, dampening τ, weight decay λ and learning rate η:
 *   g ← ∇ + λθ;  b ← g (first step) or μb + (1 − τ)g;  g ← g + μb (Nesterov) or b;  θ ← θ − ηg.
 * @example const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 *          loss.backward(); opt.step(); opt.zeroGrad();
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(
    params: Iterable<Tensor> | ParamGroup<SGDOptions>[],
    opts: Partial<SGDOptions> & { lr: number },
  ) {
    super('SGD', params, { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, ...opts });
  }

  protected validate(g: Group<SGDOptions>): void {
    if (!(g.lr >= 0)) throw new WedgeError(`SGD: invalid learning rate ${g.lr}`);
    if (!(g.momentum >= 0)) throw new WedgeError(`SGD: invalid momentum ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new WedgeError(`SGD: invalid weightDecay ${g.weightDecay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new WedgeError(`SGD: Nesterov momentum needs momentum > 0 and dampening 0 (got momentum ${g.momentum}, dampening ${g.dampening})`);
    }
  }

  step(): void {
    for (const group of this.paramGroups) {
      const { lr, momentum, dampening, nesterov, weightDecay, maximize } = group;
      for (const { param, data, at, grad, state, round: r } of this.withGrads(group)) {
        const wd = r(weightDecay);
        const mu = r(momentum);
        const oneMinusTau = r(1 - dampening);
        const negLr = r(-lr);
        const first = state.buffers.momentum_buffer === undefined;
        const buf = momentum !== 0 ? (state.buffers.momentum_buffer ??= Optimizer.zerosFor(param)) : null;
        for (let i = 0; i < grad.length; i++) {
          const k = at(i);
          let d = maximize ? -grad[i] : grad[i];
          if (weightDecay !== 0) d = addScaled(r, d, wd, data[k]); // d_p.add(param, alpha=wd)
          if (buf !== null) {
            // first step: buf = clone(d_p); then buf.mul_(μ).add_(d_p, alpha=1−τ)
            buf[i] = first ? d : addScaled(r, r(buf[i] * mu), oneMinusTau, d);
            d = nesterov ? addScaled(r, d, mu, buf[i]) : buf[i];
          }
          data[k] = addScaled(r, data[k], negLr, d); // param.add_(d_p, alpha=−lr)
        }
        state.step++;
      }
    }
  }
}
