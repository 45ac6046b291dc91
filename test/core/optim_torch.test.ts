// Wedge's optimizers against torch.optim 1.13 (fixtures made by scripts/fixtures/nn_optim.py):
// op by op from given gradients (bit for bit), and over 20 training steps of a small model.
import { describe, expect, it } from 'vitest';
import {
  Adam, AdamW, Linear, Module, Parameter, SGD, crossEntropy, type Optimizer, type Tensor,
} from '@wedge/core';
import { loadSafetensors } from '@wedge/core/node';
import { fileURLToPath } from 'node:url';

const fixture = (name: string) => loadSafetensors(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)));

type Config = [string, Record<string, unknown>];
const camel = (k: string): string => k.replace(/_(.)/g, (_, c: string) => c.toUpperCase());

/** The Wedge optimizer for a PyTorch config ('SGD', {lr, weight_decay, …}). */
function makeOptimizer([cls, kw]: Config, params: Parameter[]): Optimizer<object> {
  const opts = Object.fromEntries(Object.entries(kw).map(([k, v]) => [camel(k), v])) as { lr: number };
  if (cls === 'SGD') return new SGD(params, opts);
  if (cls === 'Adam') return new Adam(params, opts);
  if (cls === 'AdamW') return new AdamW(params, opts);
  throw new Error(`no optimizer ${cls}`);
}

/** Elements that differ, and the largest difference in float32 units in the last place. */
function ulpDiff(a: Tensor, b: Tensor): { differing: number; maxUlp: number } {
  const x = new Float32Array(a.data() as Float32Array);
  const y = new Float32Array(b.data() as Float32Array);
  const xi = new Int32Array(x.buffer);
  const yi = new Int32Array(y.buffer);
  let differing = 0;
  let maxUlp = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === y[i]) continue;
    differing++;
    maxUlp = Math.max(maxUlp, Math.abs(xi[i] - yi[i]));
  }
  return { differing, maxUlp };
}

const step = fixture('nn_optim_step.safetensors');
const configs = JSON.parse(step.metadata.configs) as Record<string, Config>;

describe('optimizers match torch.optim bit for bit, given the same gradients', () => {
  it('the fixture covers SGD (momentum, dampening, Nesterov, weight decay), Adam (amsgrad, L2) and AdamW', () => {
    expect(Object.keys(configs)).toEqual([
      'sgd_momentum', 'sgd_nesterov_wd', 'sgd_dampening', 'sgd_plain', 'adam', 'adam_amsgrad_wd', 'adamw', 'adamw_amsgrad',
    ]);
  });
  for (const [name, config] of Object.entries(configs)) {
    it(`${name}: three steps of a 1003-element float32 parameter are identical to PyTorch's`, () => {
      const { tensors: s } = step;
      const p = new Parameter(s.p0.clone());
      const opt = makeOptimizer(config, [p]);
      for (let i = 0; i < 3; i++) {
        p.grad = s[`grad.${i}`];
        opt.step();
        expect(ulpDiff(p, s[`${name}.p${i + 1}`]), `after step ${i + 1}`).toEqual({ differing: 0, maxUlp: 0 });
      }
    });
  }
});

class Mlp extends Module {
  fc1 = new Linear(8, 16);
  fc2 = new Linear(16, 4);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh()); // [B, 8] → [B, 16] → [B, 4]
  }
}

const run = fixture('nn_optim_trajectory.safetensors');
const steps = Number(run.metadata.steps);

// The bound. The optimizer arithmetic is exact (above), but PyTorch's float32 matmul sums in another
// order than Wedge's float64-accumulated one, so gradients differ in the last bits and the runs drift
// apart by about one float32 ulp. Measured: losses ≤ 2.1e-7 relative; weights ≤ 9e-8 absolute
// (≤ 1.5e-6 relative where |w| ≥ 0.01; tiny weights have larger relative error from that one ulp).
// Asserted: losses ≤ 1e-6 relative; every weight |Δ| ≤ 1e-7 + 1e-5·|w|.
const LOSS_RTOL = 1e-6;
const W_ATOL = 1e-7;
const W_RTOL = 1e-5;

describe(`a ${steps}-step training run matches PyTorch's, step for step`, () => {
  for (const [name, config] of Object.entries(JSON.parse(run.metadata.configs) as Record<string, Config>)) {
    it(`${name}: per-step losses within ${LOSS_RTOL} relative, final weights within ${W_ATOL} + ${W_RTOL}·|w|`, () => {
      const t = run.tensors;
      const model = new Mlp();
      model.loadStateDict(Object.fromEntries(model.namedParameters().map(([n]) => [n, t[`init.${n}`]])));
      const opt = makeOptimizer(config, model.parameters());
      const losses: number[] = [];
      for (let k = 0; k < steps; k++) {
        opt.zeroGrad();
        const loss = crossEntropy(model.forward(t[`batch.${k}.x`]), t[`batch.${k}.y`]);
        loss.backward();
        opt.step();
        losses.push(loss.item());
      }
      const expected = Array.from(t[`${name}.losses`].data());
      const lossErr = Math.max(...losses.map((l, k) => Math.abs(l - expected[k]) / Math.abs(expected[k])));
      // worst |Δ| / (atol + rtol·|w|): ≤ 1 passes
      let worst = 0;
      let worstAbs = 0;
      for (const [n, p] of model.namedParameters()) {
        const a = p.data();
        const b = t[`${name}.final.${n}`].data();
        for (let i = 0; i < a.length; i++) {
          const d = Math.abs(a[i] - b[i]);
          worst = Math.max(worst, d / (W_ATOL + W_RTOL * Math.abs(b[i])));
          worstAbs = Math.max(worstAbs, d);
        }
      }
      console.log(`${name}: losses ≤ ${lossErr.toExponential(2)} relative; weights ≤ ${worstAbs.toExponential(2)} absolute`);
      expect(lossErr).toBeLessThanOrEqual(LOSS_RTOL);
      expect(worst).toBeLessThanOrEqual(1);
      // and training did something: the last loss is below the first
      expect(losses[steps - 1]).toBeLessThan(losses[0]);
    });
  }
});
