// Hand-checkable behaviour of tensors: strided views without copies, reading values, printing,
// dtype promotion, the constructors and the seeded random generator.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Tensor, Generator, tensor, zeros, ones, full, arange, linspace, eye, tril, triu, rand, randn, randint, randperm,
  uniform, normal, manualSeed, defaultGenerator, add, div, mul, where, sum, cat, pow, maximum, minimum, sign, CpuStorage,
} from '@wedge/core';
import { shape, tensorOf, reshapeOf } from '@wedge/core/testing';

/** Write through `t`'s storage at its first element, to show which tensors see the change. */
const poke = (t: Tensor, value: number): void => {
  t.storage.read()[t.offset] = value;
};

describe('views share storage; contiguous() and clone() copy', () => {
  const x = () => arange(16).float().reshape(2, 8); // [[0..7], [8..15]]

  it('slice with a step is a strided view (RoPE takes x[..., 0::2] and x[..., 1::2])', () => {
    const base = x();
    const even = base.slice(-1, 0, undefined, 2);
    const odd = base.slice(-1, 1, undefined, 2);
    expect(even.storage).toBe(base.storage);
    expect(odd.storage).toBe(base.storage);
    expect([even.shape, even.strides, even.offset]).toEqual([[2, 4], [8, 2], 0]);
    expect([odd.shape, odd.strides, odd.offset]).toEqual([[2, 4], [8, 2], 1]);
    expect(odd.toArray()).toEqual([[1, 3, 5, 7], [9, 11, 13, 15]]);
    poke(odd, 100);
    expect(base.toArray()).toEqual([[0, 100, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]);
  });

  it('a slice with start, end and step, negative bounds counted from the end', () => {
    const v = arange(10).slice(0, -8, -1, 3); // Python's [2:9:3] = 2, 5, 8
    expect(v.toArray()).toEqual([2, 5, 8]);
    expect([v.strides, v.offset]).toEqual([[3], 2]);
    expect(arange(10).slice(0, 20, 30).toArray()).toEqual([]); // bounds clamp, as in Python
  });

  it('transpose and permute swap strides, not data', () => {
    const base = x();
    const t = base.transpose(0, 1);
    expect(t.storage).toBe(base.storage);
    expect([t.shape, t.strides]).toEqual([[8, 2], [1, 8]]);
    expect(t.isContiguous()).toBe(false);
    const p = arange(24).reshape(2, 3, 4).permute(2, 0, 1);
    expect([p.shape, p.strides]).toEqual([[4, 2, 3], [1, 12, 4]]);
    expect((base.mT.toArray() as number[][])[3]).toEqual([3, 11]);
  });

  it('expand gives broadcast dims stride 0', () => {
    const col = tensor([[1], [2], [3]]);
    const e = col.expand(2, 3, 4);
    expect(e.storage).toBe(col.storage);
    expect([e.shape, e.strides]).toEqual([[2, 3, 4], [0, 1, 0]]);
    expect(e.toArray()).toEqual([0, 1].map(() => [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]));
    expect(col.expand(-1, 2).toArray()).toEqual([[1, 1], [2, 2], [3, 3]]);
  });

  it('reshape, view, unsqueeze and squeeze of a contiguous tensor are views', () => {
    const base = x();
    for (const v of [base.reshape(4, 4), base.view(16), base.unsqueeze(0), base.unsqueeze(0).squeeze(), base.flatten()]) {
      expect(v.storage).toBe(base.storage);
    }
    expect(base.unsqueeze(1).shape).toEqual([2, 1, 8]);
    expect(zeros([1, 3, 1]).squeeze().shape).toEqual([3]);
    expect(zeros([1, 3, 1]).squeeze(0).shape).toEqual([3, 1]);
    expect(zeros([2, 3]).squeeze(0).shape).toEqual([2, 3]); // a dim that is not 1 is left alone
  });

  it('reshape of a non-viewable tensor copies, with the right values', () => {
    const t = x().transpose(0, 1); // [8, 2]
    const r = t.reshape(16);
    expect(r.storage).not.toBe(t.storage);
    expect(r.toArray()).toEqual([0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15]);
  });

  it('contiguous() copies a strided view, and returns a contiguous tensor itself', () => {
    const base = x();
    const t = base.transpose(0, 1);
    const c = t.contiguous();
    expect(c.storage).not.toBe(base.storage);
    expect(c.isContiguous()).toBe(true);
    expect(c.toArray()).toEqual(t.toArray());
    poke(base, -1);
    expect((c.toArray() as number[][])[0]).toEqual([0, 8]); // the copy keeps the old value
    expect(base.contiguous()).toBe(base);
  });

  it('clone() always copies', () => {
    const base = x();
    const c = base.clone();
    expect(c.storage).not.toBe(base.storage);
    expect(c.toArray()).toEqual(base.toArray());
  });

  it('split and chunk give views; PyTorch sizes for chunk', () => {
    const base = arange(7);
    const parts = base.chunk(3);
    expect(parts.map((p) => p.toArray())).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(parts.every((p) => p.storage === base.storage)).toBe(true);
    expect(base.split([2, 0, 5]).map((p) => p.shape[0])).toEqual([2, 0, 5]);
  });

  it('any reshape of a generated shape keeps the row-major order of the values', () => {
    fc.assert(
      fc.property(shape({ maxRank: 4 }).chain((s) => fc.tuple(tensorOf(s), reshapeOf(s))), ([t, to]) => {
        expect(Array.from(t.reshape(to).data())).toEqual(Array.from(t.data()));
      }),
      { numRuns: 50, seed: 7 },
    );
  });
});

describe('reading values', () => {
  it('toArray gives nested arrays (booleans for bool), item a number, data a fresh typed array', () => {
    expect(tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor([1, 0]).gt(0).toArray()).toEqual([true, false]);
    expect(tensor(2.5).toArray()).toBe(2.5);
    expect(tensor([[7]]).item()).toBe(7);
    expect(tensor([true]).item()).toBe(1);
    const t = arange(6).reshape(2, 3).transpose(0, 1);
    const d = t.data();
    expect(d).toBeInstanceOf(Int32Array);
    expect(Array.from(d)).toEqual([0, 3, 1, 4, 2, 5]);
    d[0] = 99;
    expect(t.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
  });

  it('float32 storage rounds to float32', () => {
    expect(tensor([0.1]).item()).toBe(Math.fround(0.1));
    expect(tensor([0.1], { dtype: 'float64' }).item()).toBe(0.1);
  });
});

describe('toString prints like PyTorch, with the shape', () => {
  it('matrices align columns and indent rows under the first', () => {
    expect(tensor([[1, 2], [3, 4]]).toString()).toBe('tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2])');
    expect(tensor([[0.5, -1.25], [3, 4]], { dtype: 'float64' }).toString()).toBe(
      'tensor([[ 0.5000, -1.2500],\n        [ 3.0000,  4.0000]], shape=[2, 2], dtype=float64)',
    );
  });

  it('scalars, ints, bools, and the autograd fields', () => {
    expect(tensor(2).toString()).toBe('tensor(2., shape=[])');
    expect(tensor([3, -1, 40], { dtype: 'int32' }).toString()).toBe('tensor([ 3, -1, 40], shape=[3], dtype=int32)');
    expect(tensor([[true, false]]).toString()).toBe('tensor([[ True, False]], shape=[1, 2], dtype=bool)');
    const x = ones([3], { requiresGrad: true });
    expect(x.toString()).toBe('tensor([1., 1., 1.], shape=[3], requires_grad=True)');
    expect(x.mul(2).toString()).toBe('tensor([2., 2., 2.], shape=[3], grad_fn=<mul>)');
  });

  it('scientific notation when magnitudes span more than 1000×, and half-to-even rounding', () => {
    expect(tensor([1e-5, 123]).toString()).toBe('tensor([1.0000e-05, 1.2300e+02], shape=[2])');
    expect(tensor([1, 2000]).toString()).toBe('tensor([1.0000e+00, 2.0000e+03], shape=[2])');
    expect(tensor([0.03125, 1]).toString()).toBe('tensor([0.0312, 1.0000], shape=[2])'); // 0.03125 is a tie
    expect(tensor([NaN, 1, -Infinity]).toString()).toBe('tensor([nan, 1., -inf], shape=[3])');
  });

  it('wraps long rows at 80 columns', () => {
    expect(arange(20).toString()).toBe(
      'tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n        18, 19], shape=[20], dtype=int32)',
    );
  });

  it('elides tensors of more than 1000 elements, keeping 3 at each end', () => {
    expect(arange(1000).toString()).not.toContain('...');
    expect(arange(1001).toString()).toBe('tensor([   0,    1,    2,  ...,  998,  999, 1000], shape=[1001], dtype=int32)');
    const big = arange(2 * 600).reshape(600, 2).toString();
    expect(big.split('\n')).toEqual([
      'tensor([[   0,    1],',
      '        [   2,    3],',
      '        [   4,    5],',
      '        ...,',
      '        [1194, 1195],',
      '        [1196, 1197],',
      '        [1198, 1199]], shape=[600, 2], dtype=int32)',
    ]);
  });
});

describe('ties and NaN, as in PyTorch', () => {
  it('argmax and argmin return the first index on ties', () => {
    expect(tensor([1, 3, 3, 0]).argmax().item()).toBe(1);
    expect(tensor([2, 0, 0, 5]).argmin().item()).toBe(1);
    expect(tensor([[1, 1], [2, 2]]).argmax(1).toArray()).toEqual([0, 0]);
  });

  it('NaN wins max, argmax, maximum and minimum, and passes through relu and sums', () => {
    expect(tensor([1, NaN, 3]).argmax().item()).toBe(1);
    expect(tensor([1, NaN, 3]).argmin().item()).toBe(1);
    expect(tensor([[1, NaN], [3, 2]]).max(1).toArray()).toEqual([NaN, 3]);
    expect(maximum(tensor([NaN, 1]), tensor([0, NaN])).toArray()).toEqual([NaN, NaN]);
    expect(minimum(tensor([NaN, 1]), tensor([0, NaN])).toArray()).toEqual([NaN, NaN]);
    expect(tensor([NaN, -1, 2]).relu().toArray()).toEqual([NaN, 0, 2]);
    expect(tensor([1, NaN]).sum().item()).toBeNaN();
    expect(tensor([NaN]).gt(0).toArray()).toEqual([false]);
  });

  it('sign is -1, 0 or 1', () => {
    expect(sign(tensor([-2, 0, 3, -0])).toArray()).toEqual([-1, 0, 1, 0]);
  });
});

describe('dtype promotion', () => {
  const i32 = tensor([1, 2], { dtype: 'int32' });
  const f32 = tensor([1, 2]);
  const f64 = tensor([1, 2], { dtype: 'float64' });
  const b = tensor([true, false]);

  it('between tensors: bool < int32 < float32 < float64', () => {
    expect(add(i32, f32).dtype).toBe('float32');
    expect(add(f32, f64).dtype).toBe('float64');
    expect(add(i32, b).dtype).toBe('int32');
    expect(mul(b, b).dtype).toBe('int32'); // NOTE: PyTorch keeps bool (logical and); Wedge counts
    expect(where(b, i32, f64).dtype).toBe('float64');
  });

  it('JS numbers never widen a tensor of their category; a fraction makes an int tensor float32', () => {
    expect(add(f32, 1e10).dtype).toBe('float32');
    expect(add(i32, 2).dtype).toBe('int32');
    expect(add(i32, 2.5).dtype).toBe('float32');
    expect(add(b, 2).dtype).toBe('int32');
    expect(pow(i32, 0.5).dtype).toBe('float32');
  });

  it('a 0-d tensor does not widen a dimensioned one of the same category (as in PyTorch)', () => {
    expect(add(f32, tensor(1, { dtype: 'float64' })).dtype).toBe('float32');
    expect(add(i32, tensor(1.5, { dtype: 'float64' })).dtype).toBe('float64');
    expect(add(tensor(1), tensor(1, { dtype: 'float64' })).dtype).toBe('float64');
    expect(where(b, f32, tensor(0, { dtype: 'float64' })).dtype).toBe('float32');
  });

  it('true division, comparisons and reductions', () => {
    expect(div(i32, i32).dtype).toBe('float32');
    expect(div(tensor([3], { dtype: 'int32' }), 2).item()).toBe(1.5);
    expect(i32.lt(f64).dtype).toBe('bool');
    expect(sum(b).dtype).toBe('int32');
    expect(sum(b).item()).toBe(1);
    expect(i32.exp().dtype).toBe('float32');
    expect(i32.abs().dtype).toBe('int32');
    expect(cat([i32, f64]).dtype).toBe('float64');
  });

  it('casts truncate toward zero and map nonzero to true', () => {
    expect(tensor([-1.7, 1.7, 2.5]).int().toArray()).toEqual([-1, 1, 2]);
    expect(tensor([0, -2, 0.5]).to('bool').toArray()).toEqual([false, true, true]);
    expect(tensor([true, false]).float().toArray()).toEqual([1, 0]);
  });
});

describe('constructors', () => {
  it('tensor() infers shape and dtype', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect([t.shape, t.dtype]).toEqual([[2, 3], 'float32']);
    expect(tensor([true]).dtype).toBe('bool');
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('zeros, ones, full', () => {
    expect(zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(ones([3], { dtype: 'int32' }).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 7.5).toArray()).toEqual([7.5, 7.5]);
    expect(full([1], true).dtype).toBe('bool');
  });

  it('arange: int32 for integer arguments, float32 otherwise, any step sign', () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(arange(2, 8, 3).toArray()).toEqual([2, 5]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    const f = arange(0, 1, 0.1);
    expect([f.dtype, f.size]).toEqual(['float32', 10]); // PyTorch: ceil((end − start) / step)
    expect(f.toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => Math.fround(i * 0.1)));
    expect(arange(3, 3).size).toBe(0);
  });

  it('linspace: inclusive ends, the same float32 values as PyTorch', () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    // torch.linspace(0, 1, 7).tolist() and torch.linspace(-1, 1, 4).tolist()
    expect(linspace(0, 1, 7).toArray()).toEqual([
      0, 0.1666666716337204, 0.3333333432674408, 0.5, 0.6666666269302368, 0.8333333134651184, 1,
    ]);
    expect(linspace(-1, 1, 4).toArray()).toEqual([-1, -0.3333333134651184, 0.3333333134651184, 1]);
    expect(linspace(2, 3, 1).toArray()).toEqual([2]); // torch.linspace(2, 3, 1) is [2.]
    expect(linspace(0, 1, 3, { dtype: 'float64' }).toArray()).toEqual([0, 0.5, 1]);
  });

  it('eye, tril, triu', () => {
    expect(eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    const m = arange(1, 10).reshape(3, 3);
    expect(tril(m).toArray()).toEqual([[1, 0, 0], [4, 5, 0], [7, 8, 9]]);
    expect(tril(m, -1).toArray()).toEqual([[0, 0, 0], [4, 0, 0], [7, 8, 0]]);
    expect(triu(m).toArray()).toEqual([[1, 2, 3], [0, 5, 6], [0, 0, 9]]);
    expect(triu(m, 1).toArray()).toEqual([[0, 2, 3], [0, 0, 6], [0, 0, 0]]);
    expect(triu(ones([2, 2, 3]), 2).toArray()).toEqual([0, 1].map(() => [[0, 0, 1], [0, 0, 0]]));
    expect(tril(m).dtype).toBe('int32');
  });
});

describe('seeded randomness', () => {
  it('the same seed gives the same numbers; another seed does not', () => {
    const a = randn([64], { generator: new Generator(42) }).toArray();
    const b = randn([64], { generator: new Generator(42) }).toArray();
    const c = randn([64], { generator: new Generator(43) }).toArray();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('manualSeed resets the default generator', () => {
    manualSeed(7);
    const first = [rand([5]).toArray(), randint(0, 100, [5]).toArray()];
    manualSeed(7);
    expect([rand([5]).toArray(), randint(0, 100, [5]).toArray()]).toEqual(first);
    expect(defaultGenerator.initialSeed()).toBe(7);
  });

  it('is xoshiro128**: from the state [1, 2, 3, 4] it gives the reference outputs 11520, 0, 5927040', () => {
    const g = new Generator().setState({ s: [1, 2, 3, 4], spare: null });
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('the stream of seed 0 is pinned (changing it changes every seeded run and example)', () => {
    const g = new Generator(0);
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([3809008728, 1133695204, 53579671]);
  });

  it('getState and setState replay a stream exactly, including the spare normal', () => {
    const g = new Generator(5);
    randn([3], { generator: g }); // leaves a spare normal
    const state = g.getState();
    const next = randn([4], { generator: g }).toArray();
    g.setState(state);
    expect(randn([4], { generator: g }).toArray()).toEqual(next);
  });

  it('rand is in [0, 1), randint in [low, high), uniform and normal have their parameters', () => {
    const g = new Generator(1);
    const r = Array.from(rand([2000], { generator: g }).data());
    expect(Math.min(...r)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r)).toBeLessThan(1);
    const ints = Array.from(randint(-3, 4, [2000], { generator: g }).data());
    expect(new Set(ints)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    const u = Array.from(uniform([2000], 2, 5, { generator: g }).data());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThan(5);
    // 20 000 draws: the sample mean is within 4 standard errors (4 · 3 / √20000 ≈ 0.085) of 1
    const n = Array.from(normal([20000], 1, 3, { generator: g, dtype: 'float64' }).data());
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean - 1)).toBeLessThan(0.085);
    expect(Math.abs(std - 3)).toBeLessThan(0.06);
  });

  it('randperm is a permutation of 0..n-1, and seeded', () => {
    for (const n of [0, 1, 2, 10, 257]) {
      const p = Array.from(randperm(n, { generator: new Generator(n) }).data());
      expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    const p1 = randperm(50, { generator: new Generator(3) }).toArray();
    expect(randperm(50, { generator: new Generator(3) }).toArray()).toEqual(p1);
    expect(p1).not.toEqual(arange(50).toArray()); // 1 in 50! chance of a false failure, for this fixed seed: none
  });
});

describe('dataAsync / itemAsync', () => {
  it('give the values data() and item() give, after the event loop turns', async () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1); // a strided view
    let turned = false;
    setTimeout(() => (turned = true), 0);
    const values = await t.dataAsync();
    expect(turned).toBe(true);
    expect(Array.from(values)).toEqual(Array.from(t.data()));
    expect(await t.sum().itemAsync()).toBe(21);
  });

  it("await a storage's asynchronous download when it has one", async () => {
    const inner = new CpuStorage(new Float32Array([7, 8]), 'float32');
    let downloads = 0;
    const storage = Object.assign(Object.create(inner) as CpuStorage, { readAsync: async () => (downloads++, inner.read()) });
    const t = new Tensor(storage, [2]);
    expect(Array.from(await t.dataAsync())).toEqual([7, 8]);
    expect(downloads).toBe(1);
  });

  it('itemAsync names the shape when the tensor has more than one element', async () => {
    await expect(tensor([1, 2]).itemAsync()).rejects.toThrow('itemAsync: needs a tensor with one element, got shape [2] (2 elements)');
  });
});
