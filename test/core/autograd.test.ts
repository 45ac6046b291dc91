// The tape's behaviour, checked by hand: accumulation, one visit per node, noGrad, detach,
// retainGraph, retainGrad, createGraph, broadcast gradients, and gradient dtypes and storage.
import { describe, expect, it } from 'vitest';
import {
  type Tensor, tensor, ones, arange, noGrad, enableGrad, isGradEnabled, defineOp, topologicalOrder, mul, matmul,
  softmax,
} from '@wedge/core';
import { assertClose } from '../helpers/assert_close.ts';

/** An identity op that counts how often its backward runs. */
function countingIdentity(): { op: (x: Tensor) => Tensor; calls: () => number } {
  let calls = 0;
  const op = defineOp<void>({
    name: 'counted',
    inputs: ['x'],
    forward: ([x]) => x.detach().clone(),
    backward: (gOut) => {
      calls++;
      return { x: () => gOut };
    },
  });
  return { op: (x) => op([x], undefined), calls: () => calls };
}

describe('leaf gradients', () => {
  it('d(x² + 3x)/dx = 2x + 3', () => {
    const x = tensor([1, -2, 0.5], { requiresGrad: true });
    x.mul(x).add(x.mul(3)).sum().backward();
    expect(x.grad!.toArray()).toEqual([5, -1, 4]);
  });

  it('accumulate across backward calls until zeroed', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    expect(x.grad!.toArray()).toEqual([6, 6]);
    x.grad = null;
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 4]);
  });

  it('come back in the shape of their leaf when it was broadcast', () => {
    const bias = tensor([1, 2, 3], { requiresGrad: true }); // [3]
    const col = tensor([[1], [2]], { requiresGrad: true }); // [2, 1]
    const grid = ones([4, 2, 3]);
    grid.add(bias).mul(col).sum().backward();
    expect(bias.grad!.shape).toEqual([3]);
    expect(bias.grad!.toArray()).toEqual([12, 12, 12]); // Σ over 4 × (1 + 2)
    expect(col.grad!.toArray()).toEqual([[36], [36]]); // 4 × Σⱼ(1 + biasⱼ) = 4 × 9
  });

  it('come back in the dtype of their leaf', () => {
    const a = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true }); // float32
    const y = a.mul(b);
    expect(y.dtype).toBe('float64');
    y.sum().backward();
    expect([a.grad!.dtype, b.grad!.dtype]).toEqual(['float64', 'float32']);
  });

  it('own their storage: not shared with each other or with the gradient passed in', () => {
    const a = ones([2], { requiresGrad: true });
    const b = ones([2], { requiresGrad: true });
    const g = tensor([1, 2]);
    a.add(b).backward(g); // add passes gOut to both inputs unchanged
    expect(a.grad!.storage).not.toBe(b.grad!.storage);
    expect(a.grad!.storage).not.toBe(g.storage);
    a.grad!.storage.read()[0] = 100; // an in-place update of one grad (gradient clipping)
    expect(b.grad!.toArray()).toEqual([1, 2]);
    expect(g.toArray()).toEqual([1, 2]);
  });

  it('reach only the slice of a base tensor that was used', () => {
    const x = arange(6).float().requiresGrad_();
    x.slice(0, 1, undefined, 2).mul(tensor([1, 2, 3])).sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 1, 0, 2, 0, 3]);
  });

  it('skip tensors that do not require grad', () => {
    const w = tensor([2, 3], { requiresGrad: true });
    const c = tensor([5, 7]);
    w.mul(c).sum().backward();
    expect(c.grad).toBeNull();
    expect(w.grad!.toArray()).toEqual([5, 7]);
  });
});

describe('the tape', () => {
  it('processes a node used on several paths once (one topological sort)', () => {
    const { op, calls } = countingIdentity();
    const x = tensor([0.5, 2], { requiresGrad: true });
    const y = op(x); // used four times below
    const z = y.mul(y).add(y.exp()).add(y);
    z.sum().backward();
    expect(calls()).toBe(1);
    assertClose(x.grad!, [2 * 0.5 + Math.exp(0.5) + 1, 2 * 2 + Math.exp(2) + 1], { rtol: 1e-6 });
  });

  it('orders a diamond so that each tensor comes after all of its inputs', () => {
    const x = tensor([1], { requiresGrad: true });
    const a = x.mul(2);
    const b = x.exp();
    const out = a.add(b).mul(a);
    const order = topologicalOrder(out);
    const at = (t: Tensor) => order.indexOf(t);
    expect(order.length).toBe(5); // x, a, b, a + b, out
    expect(at(x)).toBe(0);
    expect(at(a)).toBeLessThan(at(out));
    expect(at(b)).toBeLessThan(at(out));
    expect(at(out)).toBe(order.length - 1);
  });

  it('survives a 20 000-op chain (no recursion)', () => {
    const x = tensor([1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20_000; i++) y = y.add(1);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([1]);
  });

  it('records op names, leaves and requiresGrad', () => {
    const x = ones([2], { requiresGrad: true });
    const y = x.mul(2).sum();
    expect([x.isLeaf, x.gradFn, y.isLeaf, y.gradFn, y.requiresGrad]).toEqual([true, null, false, 'sum', true]);
    expect(ones([2]).mul(2).requiresGrad).toBe(false);
  });

  it('frees the graph after backward, unless retainGraph keeps it', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad!.toArray()).toEqual([4, 8]); // twice 2x
    expect(() => y.backward()).toThrow(/graph was freed/);
  });

  it('a non-scalar backward takes the gradient of its output', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).backward(tensor([1, 0, -1]));
    expect(x.grad!.toArray()).toEqual([2, 0, -6]);
  });
});

describe('noGrad, enableGrad and detach', () => {
  it('noGrad records nothing and restores the mode, even when fn throws', () => {
    const x = ones([2], { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect([y.requiresGrad, y.gradFn]).toEqual([false, null]);
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    const z = noGrad(() => enableGrad(() => x.mul(2)));
    expect(z.gradFn).toBe('mul');
  });

  it('detach shares storage, cuts the graph, and stops gradients', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.mul(3).detach();
    expect([d.requiresGrad, d.isLeaf]).toEqual([false, true]);
    const y = x.mul(2);
    expect(y.detach().storage).toBe(y.storage);
    // f = x · stop(x): df/dx = stop(x) only
    x.mul(x.detach()).sum().backward();
    expect(x.grad!.toArray()).toEqual([1, 2]);
  });
});

describe('non-leaf gradients', () => {
  it('retainGrad keeps the gradient of an intermediate; others are not kept', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(3).retainGrad();
    const k = h.mul(h);
    h.mul(h).sum().backward();
    expect(h.grad!.toArray()).toEqual([6, 12]); // 2h
    expect(k.grad).toBeNull();
    expect(x.grad!.toArray()).toEqual([18, 36]);
  });

  it('createGraph makes the gradient differentiable: d²(x³)/dx² = 6x', () => {
    const x = tensor([2, -1], { dtype: 'float64', requiresGrad: true });
    x.pow(3).sum().backward(undefined, { createGraph: true });
    const g = x.grad!;
    expect(g.toArray()).toEqual([12, 3]); // 3x²
    expect(g.requiresGrad).toBe(true);
    x.grad = null;
    g.sum().backward();
    expect(x.grad!.toArray()).toEqual([12, -6]); // 6x
  });

  it('createGraph through softmax and matmul gives a Hessian-vector product that matches finite differences', () => {
    // f(w) = Σ softmax(w · v)ᵢ · cᵢ; a first gradient through createGraph, then grad of ⟨∇f, u⟩
    const w = tensor([[0.2, -0.1], [0.4, 0.3]], { dtype: 'float64', requiresGrad: true });
    const v = tensor([1, 2], { dtype: 'float64' });
    const c = tensor([1, -1], { dtype: 'float64' });
    const f = (m: Tensor) => softmax(matmul(m, v), 0).mul(c).sum();
    f(w).backward(undefined, { createGraph: true });
    const g = w.grad!;
    w.grad = null;
    mul(g, tensor([[1, 0], [0, 1]], { dtype: 'float64' })).sum().backward();
    // finite differences of the first gradient along u = I
    const eps = 1e-6;
    const gradAt = (delta: number) => {
      const m = w.detach().add(tensor([[delta, 0], [0, delta]], { dtype: 'float64' })).requiresGrad_();
      f(m).backward();
      return Array.from(m.grad!.data());
    };
    const hi = gradAt(eps);
    const lo = gradAt(-eps);
    assertClose(w.grad!.reshape(4), hi.map((h, i) => (h - lo[i]) / (2 * eps)), { rtol: 1e-5, atol: 1e-8 });
  });

  it('zero second derivative of a linear function: the gradient does not require grad', () => {
    const x = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    x.mul(5).sum().backward(undefined, { createGraph: true });
    expect(x.grad!.toArray()).toEqual([5, 5]);
    expect(x.grad!.requiresGrad).toBe(false);
  });
});
