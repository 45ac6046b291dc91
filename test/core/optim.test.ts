// Optimizers by hand: updates small enough to check on paper, resuming from a state dict,
// parameter groups, and the errors.
import { describe, expect, it } from 'vitest';
import {
  Adam, AdamW, Generator, Linear, Module, Parameter, SGD, Tensor, crossEntropy, decodeSafetensors, encodeSafetensors,
  optimizerStateFromTensors, optimizerStateToTensors, randint, randn, tensor, tidy, type Optimizer,
} from '@wedge/core';

const param = (values: number[], dtype: 'float32' | 'float64' = 'float32') => new Parameter(tensor(values, { dtype }));

describe('SGD, checked by hand', () => {
  it('plain: θ ← θ − η·g', () => {
    const p = param([1, 2], 'float64');
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = tensor([0.5, -1], { dtype: 'float64' });
    opt.step();
    expect(p.toArray()).toEqual([1 - 0.05, 2 + 0.1]);
  });
  it('momentum: the first buffer is the gradient, then b ← μb + g', () => {
    const p = param([0], 'float64');
    const opt = new SGD([p], { lr: 1, momentum: 0.5 });
    p.grad = tensor([2], { dtype: 'float64' });
    opt.step(); // b = 2, θ = −2
    opt.step(); // b = 0.5·2 + 2 = 3, θ = −5
    expect(p.toArray()).toEqual([-5]);
  });
  it('Nesterov and weight decay: g ← g + λθ; b ← μb + g; θ ← θ − η(g + μb)', () => {
    const p = param([1], 'float64');
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5, nesterov: true, weightDecay: 0.2 });
    p.grad = tensor([1], { dtype: 'float64' });
    opt.step(); // g = 1.2, b = 1.2, step = 1.2 + 0.6 = 1.8 → θ = 0.82
    expect(p.item()).toBeCloseTo(0.82, 15);
  });
  it('maximize ascends', () => {
    const p = param([1], 'float64');
    const opt = new SGD([p], { lr: 0.5, maximize: true });
    p.grad = tensor([2], { dtype: 'float64' });
    opt.step();
    expect(p.item()).toBe(2);
  });
});

describe('Adam and AdamW, checked by hand', () => {
  it('the first Adam step moves each weight by lr·g/(|g| + ε) (bias correction undoes β)', () => {
    const p = param([1, -1, 0.5], 'float64');
    const opt = new Adam([p], { lr: 0.01 });
    const g = [3, -0.25, 1e-9];
    p.grad = tensor(g, { dtype: 'float64' });
    opt.step();
    const expected = [1, -1, 0.5].map((x, i) => x - (0.01 * g[i]) / (Math.abs(g[i]) + 1e-8));
    (p.toArray() as number[]).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 14));
  });
  it('AdamW decays the weight before the step: θ ← θ(1 − ηλ) − …', () => {
    const a = param([2], 'float64');
    const b = param([2], 'float64');
    const adamw = new AdamW([a], { lr: 0.1, weightDecay: 0.5 });
    const adam = new Adam([b], { lr: 0.1, weightDecay: 0 });
    a.grad = tensor([1], { dtype: 'float64' });
    b.grad = tensor([1], { dtype: 'float64' });
    adamw.step();
    adam.step();
    expect(a.item()).toBeCloseTo(2 * (1 - 0.05) - 0.1, 7);
    expect(b.item()).toBeCloseTo(2 - 0.1, 7);
  });
  it('Adam’s weight decay is an L2 term in the gradient (so a zero gradient still moves a non-zero weight)', () => {
    const p = param([2], 'float64');
    const opt = new Adam([p], { lr: 0.1, weightDecay: 0.5 });
    p.grad = tensor([0], { dtype: 'float64' });
    opt.step(); // g = 0 + 0.5·2 = 1 → one full lr step
    expect(p.item()).toBeCloseTo(1.9, 7);
  });
  it('amsgrad keeps the running maximum of v', () => {
    const p = param([0], 'float64');
    const opt = new Adam([p], { lr: 0.1, amsgrad: true, betas: [0, 0.5] });
    p.grad = tensor([4], { dtype: 'float64' });
    opt.step();
    p.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    const v = 0.5 * (0.5 * 16) + 0.5 * 1; // 4.5
    const vMax = Math.max(8, v); // v after step 1 was 0.5·16 = 8
    expect(opt.state.get(p)!.buffers.max_exp_avg_sq[0]).toBe(vMax);
    expect(opt.state.get(p)!.buffers.exp_avg_sq[0]).toBe(v);
  });
});

class Mlp extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(g: Generator) {
    super();
    this.fc1 = new Linear(3, 5, { generator: g });
    this.fc2 = new Linear(5, 2, { generator: g });
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh());
  }
}

function train(model: Mlp, opt: Optimizer<object>, batches: [Tensor, Tensor][]): void {
  for (const [x, y] of batches) {
    opt.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
    opt.step();
  }
}

describe('resuming from a state dict continues exactly where the run left off', () => {
  const g = new Generator(5);
  const batches: [Tensor, Tensor][] = Array.from({ length: 6 }, () => [randn([4, 3], { generator: g }), randint(0, 2, [4], { generator: g })]);
  const makers: [string, (ps: Parameter[]) => Optimizer<object>][] = [
    ['SGD', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true })],
    ['Adam', (ps) => new Adam(ps, { lr: 0.01, amsgrad: true })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: 3 steps, save, 3 more = 6 steps straight (also through a safetensors file)`, () => {
      const straight = new Mlp(new Generator(1));
      train(straight, make(straight.parameters()), batches);

      const first = new Mlp(new Generator(1));
      const opt1 = make(first.parameters());
      train(first, opt1, batches.slice(0, 3));
      const saved = opt1.stateDict();
      const bytes = encodeSafetensors({ ...first.stateDict(), ...optimizerStateToTensors(saved).tensors }, optimizerStateToTensors(saved).metadata);
      train(first, opt1, batches.slice(3)); // moving on must not change what was saved
      expect(opt1.stateDict()).not.toEqual(saved);

      const file = decodeSafetensors(bytes);
      const resumed = new Mlp(new Generator(99));
      resumed.loadStateDict(file.tensors, { strict: false });
      const opt2 = make(resumed.parameters());
      opt2.loadStateDict(optimizerStateFromTensors(file.tensors, file.metadata));
      train(resumed, opt2, batches.slice(3));
      for (const [n, p] of straight.namedParameters()) expect(resumed.stateDict()[n].toArray(), n).toEqual(p.toArray());
    });
  }
  it('loadStateDict restores hyperparameters and refuses a mismatched layout', () => {
    const a = new Mlp(new Generator(1));
    const opt = new Adam(a.parameters(), { lr: 0.5 });
    const sd = opt.stateDict();
    const other = new Adam(new Mlp(new Generator(2)).parameters(), { lr: 0.1 });
    other.loadStateDict(sd);
    expect(other.paramGroups[0].lr).toBe(0.5);
    const small = new Adam([param([1, 2])]);
    expect(() => small.loadStateDict(sd)).toThrow('Adam.loadStateDict: group 0 has 4 parameters saved, 1 here');
    train(a, opt, [[randn([2, 3]), tensor([0, 1], { dtype: 'int32' })]]);
    const wrong = new Adam([param([1]), param([1]), param([1]), param([1])]);
    expect(() => wrong.loadStateDict(opt.stateDict())).toThrow("Adam.loadStateDict: state 'exp_avg' of parameter 0 is [5, 3], the parameter [1]");
  });
});

describe('parameter groups', () => {
  it('each group uses its own hyperparameters, the rest take the defaults', () => {
    const a = param([1], 'float64');
    const b = param([1], 'float64');
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
    a.grad = tensor([1], { dtype: 'float64' });
    b.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    expect([a.item(), b.item()]).toEqual([0.9, 0]);
    expect(opt.stateDict().paramGroups.map((g) => [g.lr, g.params])).toEqual([[0.1, [0]], [1, [1]]]);
  });
  it('parameters without a gradient are skipped (no state, no step)', () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new Adam([a, b]);
    a.grad = tensor([1]);
    opt.step();
    expect(b.item()).toBe(1);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.state.get(a)!.step).toBe(1);
  });
  it('zeroGrad clears the gradients of every group', () => {
    const a = param([1]);
    const opt = new SGD([{ params: [a] }], { lr: 1 });
    a.grad = tensor([1]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });
});

describe('optimizer errors', () => {
  it('refuses bad hyperparameters, duplicates, non-leaves and empty lists', () => {
    const p = param([1]);
    expect(() => new SGD([p], { lr: -1 })).toThrow('SGD: invalid learning rate -1');
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow('SGD: Nesterov momentum needs momentum > 0 and dampening 0 (got momentum 0, dampening 0)');
    expect(() => new Adam([p], { betas: [1, 0.999] })).toThrow('Adam: invalid beta parameter at index 0: 1');
    expect(() => new AdamW([p], { eps: -1 })).toThrow('AdamW: invalid epsilon -1');
    expect(() => new Adam([{ params: [p] }, { params: [p] }])).toThrow('Adam: a parameter [1] appears in more than one group');
    expect(() => new Adam([p.mul(2)])).toThrow('Adam: can only optimize floating-point leaf tensors that require grad; entry 0 is float32 [1] made by mul');
    expect(() => new Adam([tensor([1])])).toThrow('Adam: can only optimize floating-point leaf tensors that require grad; entry 0 is float32 [1] without requiresGrad');
    expect(() => new Adam([])).toThrow('Adam: got an empty parameter list');
  });
  it('a gradient freed by tidy() before step() is a clear error, not stale numbers', () => {
    const p = param([1]);
    const opt = new SGD([p], { lr: 1 });
    tidy(() => p.mul(2).sum().backward());
    expect(() => opt.step()).toThrow('SGD.step: the gradient of a parameter [1] was disposed');
  });
  it('updates a strided parameter in place', () => {
    const p = new Parameter(tensor([[1, 2], [3, 4]], { dtype: 'float64' }).transpose(0, 1)); // [[1, 3], [2, 4]]
    const opt = new SGD([p], { lr: 1 });
    p.grad = tensor([[1, 0], [0, 0]], { dtype: 'float64' });
    opt.step();
    expect(p.toArray()).toEqual([[0, 3], [2, 4]]);
  });
});
