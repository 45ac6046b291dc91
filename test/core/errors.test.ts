// Exact error messages: each names the op, every full shape involved and the offending axis or
// value, so that a user can fix the call from the message alone.
import { describe, expect, it } from 'vitest';
import {
  WedgeError, tensor, zeros, ones, full, arange, linspace, add, exp, matmul, where, cat, stack, einsum, gather, noGrad,
  gradcheck, randn, tril, tidy, reshape, sum, softmax, fullLike, decodeSafetensors, getBackend, setBackend, registerBackend, Generator, Embedding, Linear, Parameter, SGD, Adam, optimizerStateFromTensors, type Tensor,
} from '@wedge/core';
import { safetensorsWithHeader } from '../helpers/fixtures.ts';

/** The message `fn` throws, failing if it throws anything but a WedgeError or nothing at all. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WedgeError);
    return (e as Error).message;
  }
  throw new Error('expected a WedgeError, but nothing was thrown');
}

const leaf = (shape: number[]): Tensor => ones(shape, { requiresGrad: true });

describe('shape errors name the op, both full shapes and the axis', () => {
  it('broadcasting binary ops', () => {
    expect(messageOf(() => add(zeros([2, 3]), zeros([4])))).toBe('add: shapes cannot broadcast: [2, 3] vs [4] (axis -1: 3 ≠ 4)');
    expect(messageOf(() => zeros([2, 3, 4]).mul(zeros([5, 3, 4])))).toBe(
      'mul: shapes cannot broadcast: [2, 3, 4] vs [5, 3, 4] (axis -3: 2 ≠ 5)',
    );
    expect(messageOf(() => zeros([4, 4]).lt(zeros([3, 1])))).toBe('lt: shapes cannot broadcast: [4, 4] vs [3, 1] (axis -2: 4 ≠ 3)');
    expect(messageOf(() => where(zeros([2]).gt(0), zeros([3]), 1))).toBe(
      'where: shapes cannot broadcast: [2] vs [3] vs [] (axis -1: 2 ≠ 3)',
    );
  });

  it('matmul: inner sizes, and batch dims that do not broadcast', () => {
    expect(messageOf(() => matmul(zeros([32, 63, 64]), zeros([48, 16])))).toBe(
      'matmul: inner sizes differ: a [32, 63, 64] vs b [48, 16] (64 ≠ 48)',
    );
    expect(messageOf(() => matmul(zeros([3]), zeros([4])))).toBe('matmul: inner sizes differ: a [3] vs b [4] (3 ≠ 4)');
    expect(messageOf(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])))).toBe(
      'matmul: batch dims cannot broadcast: a [2, 3, 4] vs b [3, 4, 5] (axis -3: 2 ≠ 3)',
    );
    expect(messageOf(() => matmul(zeros([]), zeros([3])))).toBe('matmul: both operands need at least 1 dim: a [] vs b [3]');
  });

  it('reductions and movement name the dim and the shape', () => {
    expect(messageOf(() => zeros([2, 3]).sum(2))).toBe('sum: dim 2 out of range [-2, 1] of a tensor of shape [2, 3]');
    expect(messageOf(() => zeros([2, 3]).softmax(-3))).toBe('softmax: dim -3 out of range [-2, 1] of a tensor of shape [2, 3]');
    expect(messageOf(() => zeros([2, 3]).sum([0, -2]))).toBe('sum: dim [0,-2] repeats an axis of shape [2, 3]');
    expect(messageOf(() => zeros([2, 3]).permute(0, 0))).toBe('permute: dims [0, 0] are not a permutation of the 2 dims of [2, 3]');
    expect(messageOf(() => zeros([2, 3]).expand(2, 4))).toBe('expand: size 3 cannot expand to 4 at dim 1 (input [2, 3], target [2, 4])');
    expect(messageOf(() => zeros([5]).slice(0, 0, 5, 0))).toBe('slice: step must be a positive integer, got 0 (shape [5], dim 0)');
    expect(messageOf(() => zeros([5]).split([2, 2]))).toBe('split: sizes [2, 2] must sum to 5, the size of dim 0 of [5]');
  });

  it('cat and stack name the tensors and the differing dim', () => {
    expect(messageOf(() => cat([zeros([2, 3]), zeros([3, 3])], 1))).toBe(
      'cat: sizes must match except in dim 1: tensor 0 [2, 3] vs tensor 1 [3, 3] (dim 0: 2 ≠ 3)',
    );
    expect(messageOf(() => cat([zeros([2, 3]), zeros([3])]))).toBe('cat: tensor 1 has 1 dims, tensor 0 has 2: [3] vs [2, 3]');
    expect(messageOf(() => stack([zeros([2, 3]), zeros([3, 3])]))).toBe(
      'stack: all tensors need the same shape: tensor 0 [2, 3] vs tensor 1 [3, 3]',
    );
  });

  it('maskedFill refuses a mask that would widen the input', () => {
    expect(messageOf(() => zeros([3]).maskedFill(zeros([2, 3]).gt(0), 1))).toBe(
      "maskedFill: mask [2, 3] must broadcast to the input's shape [3], not widen it to [2, 3]",
    );
  });

  it('einsum names the index with two sizes', () => {
    expect(messageOf(() => einsum('ij,jk->ik', zeros([2, 3]), zeros([4, 5])))).toBe("einsum: index 'j' has size 3 and 4 in 'ij,jk->ik'");
    expect(messageOf(() => einsum('ijk->i', zeros([2, 3])))).toBe("einsum: term 'ijk' does not fit operand 0 of shape [2, 3]");
  });
});

describe('reshape and view', () => {
  it('a reshape to the wrong number of elements names both shapes and the count', () => {
    expect(messageOf(() => zeros([2, 3]).reshape(4, 2))).toBe('reshape: shape [4, 2] is invalid for input of shape [2, 3] (6 elements)');
    expect(messageOf(() => zeros([2, 3]).reshape(4, -1))).toBe('reshape: shape [4, -1] is invalid for input of shape [2, 3] (6 elements)');
    expect(messageOf(() => zeros([2, 3]).reshape(-1, -1))).toBe('reshape: invalid shape [-1, -1] for input of shape [2, 3]');
  });

  it('view on strides that cannot be viewed says so and points at reshape', () => {
    expect(messageOf(() => zeros([2, 3]).transpose(0, 1).view(6))).toBe(
      "view: shape [6] is not compatible with the input's size and strides (shape [3, 2], strides [1, 3]); " +
        'use reshape() or contiguous() first',
    );
    expect(messageOf(() => zeros([4, 6]).slice(1, 0, 4).view(16))).toBe(
      "view: shape [16] is not compatible with the input's size and strides (shape [4, 4], strides [6, 1]); " +
        'use reshape() or contiguous() first',
    );
    // a uniformly strided slice (every other column of every row) is viewable: no error, no copy
    const strided = zeros([4, 6]).slice(1, 0, undefined, 2);
    expect(strided.view(12).strides).toEqual([2]);
  });
});

describe('indices', () => {
  it('an out-of-range id names the id, its position and the valid range', () => {
    expect(messageOf(() => zeros([5, 3]).indexSelect(0, tensor([1, 7, 2], { dtype: 'int32' })))).toBe(
      'indexSelect: index 7 at position [1] is out of range [0, 5) for dim 0 of [5, 3]',
    );
    expect(messageOf(() => gather(zeros([5, 3]), 1, tensor([[0], [1], [-1], [0], [0]], { dtype: 'int32' })))).toBe(
      'gather: index -1 at position [2, 0] is out of range [0, 3) for dim 1 of [5, 3]',
    );
  });

  it('indices must be int32', () => {
    expect(messageOf(() => zeros([5, 3]).indexSelect(0, tensor([1, 2])))).toBe('indexSelect: index must be int32, got float32 [2]');
  });
});

describe('autograd misuse', () => {
  it('integer and bool tensors cannot ask for gradients', () => {
    expect(messageOf(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true }))).toBe(
      'requiresGrad: only floating-point tensors can require gradients; this one is int32 [2]',
    );
    expect(messageOf(() => arange(6).reshape(2, 3).requiresGrad_())).toBe(
      'requiresGrad: only floating-point tensors can require gradients; this one is int32 [2, 3]',
    );
    expect(messageOf(() => tensor([true], { requiresGrad: true }))).toBe(
      'requiresGrad: only floating-point tensors can require gradients; this one is bool [1]',
    );
  });

  it('backward on a tensor that needs no gradient', () => {
    expect(messageOf(() => zeros([2]).sum().backward())).toBe(
      'backward: tensor of shape [] does not require grad and has no grad_fn (set requiresGrad on a leaf it depends on)',
    );
    expect(messageOf(() => noGrad(() => leaf([2]).mul(2)).sum().backward())).toBe(
      'backward: tensor of shape [] does not require grad and has no grad_fn (set requiresGrad on a leaf it depends on)',
    );
  });

  it('backward through an op without a gradient names that op', () => {
    const x = leaf([3]);
    expect(messageOf(() => x.argmax().float().backward())).toBe(
      'backward: tensor of shape [] does not require grad: the tensors that require grad reach it only through argmax, which has no gradient',
    );
    expect(messageOf(() => x.gt(0).sum().backward())).toBe(
      'backward: tensor of shape [] does not require grad: the tensors that require grad reach it only through gt, which has no gradient',
    );
    expect(messageOf(() => x.mul(3).int().float().sum().backward())).toBe(
      'backward: tensor of shape [] does not require grad: the tensors that require grad reach it only through cast, which has no gradient',
    );
  });

  it('a second backward through a freed graph', () => {
    const x = leaf([2]);
    const y = x.exp().sum();
    y.backward();
    expect(messageOf(() => y.backward())).toBe(
      'backward: trying to run backward through sum a second time, but its graph was freed; pass {retainGraph: true} to the first backward()',
    );
  });

  it('a non-scalar backward without a gradient, and a gradient of the wrong shape', () => {
    const y = leaf([2, 3]).mul(2);
    expect(messageOf(() => y.backward())).toBe(
      'backward: a gradient can be implied only for a one-element output; this one has shape [2, 3]: pass backward(gradient) with that shape',
    );
    expect(messageOf(() => y.backward(ones([3, 2])))).toBe("backward: gradient shape [3, 2] differs from the output's [2, 3]");
  });

  it('turning gradients off on a non-leaf points at detach()', () => {
    const y = leaf([2]).mul(2);
    expect(messageOf(() => (y.requiresGrad = false))).toBe(
      'requiresGrad: cannot turn gradients off on a non-leaf tensor (made by mul); use detach()',
    );
  });

  it('gradcheck names the input, the index and both values of a mismatch', () => {
    const x = randn([2, 2], { dtype: 'float64', generator: new Generator(3) }).requiresGrad_();
    const wrongSquare = (t: Tensor) => t.mul(t.detach()); // ∂/∂t drops half of 2t
    expect(messageOf(() => gradcheck(wrongSquare, [x]))).toMatch(
      /^gradcheck: gradient of input 0 \[2, 2\] at index \[0, 0\]: numeric -?[\d.e-]+, analytic -?[\d.e-]+ \(difference [\d.e-]+\)$/,
    );
    expect(messageOf(() => gradcheck((t) => t.mul(2), [ones([2], { requiresGrad: true })]))).toBe(
      'gradcheck: input 0 [2] is float32; finite differences need float64',
    );
  });
});

describe('other misuse', () => {
  it('item on a tensor with several elements', () => {
    expect(messageOf(() => zeros([2]).item())).toBe('item: needs a tensor with one element, got shape [2] (2 elements)');
  });
  it('ragged nested arrays', () => {
    expect(messageOf(() => tensor([[1, 2], [3]]))).toBe('tensor: ragged nested array at [1]: expected 2 entries, got 1');
  });
  it('float-only ops on integer tensors', () => {
    expect(messageOf(() => arange(3).softmax(0))).toBe('softmax: needs a floating-point tensor, got int32 [3]');
    expect(messageOf(() => arange(3).mean())).toBe('mean: needs a floating-point tensor, got int32 [3]; cast it first');
  });
  it('using a disposed tensor', () => {
    const x = ones([2]);
    x.dispose();
    expect(messageOf(() => x.add(1))).toBe('add: an input tensor was disposed');
  });
});

describe('bad input names the op and the offending value (issue 11)', () => {
  // [call, exact message]: one row per class of bad input
  const TABLE: [string, () => unknown, string][] = [
    ['negative sizes', () => tensor([1, 2], { shape: [-1, -2] }), 'tensor: invalid shape [-1, -2]: size -1 at dim 0 is not a non-negative integer'],
    ['a fractional size', () => zeros([2.5, 2]), 'zeros: invalid shape [2.5, 2]: size 2.5 at dim 0 is not a non-negative integer'],
    ['a NaN size', () => ones([NaN]), 'ones: invalid shape [NaN]: size NaN at dim 0 is not a non-negative integer'],
    ['a shape that is not an array', () => zeros(3 as never), 'zeros: shape must be an array of sizes, got 3'],
    ['a string among the values', () => tensor(['a' as never]), 'tensor: the value at [0] is "a", not a number or a boolean'],
    ['an int32 value out of range', () => tensor([1e40], { dtype: 'int32' }), 'tensor: value 1e+40 cannot be converted to int32 without overflow'],
    ['an int32 fill out of range', () => full([2], 1e40, { dtype: 'int32' }), 'full: value 1e+40 cannot be converted to int32 without overflow'],
    ['a fill value that is not a number', () => full([2], 'x' as never), 'full: fill value must be a number or a boolean, got "x"'],
    ['an unknown dtype', () => zeros([2], { dtype: 'int64' as never }), 'zeros: unknown dtype "int64" (one of bool, int32, float32, float64)'],
    ['a string operand', () => zeros([2]).add('a' as never), 'add: operand b must be a Tensor, a number or a boolean, got "a"'],
    ['a null operand', () => add(null as never, 1), 'add: operand a must be a Tensor, a number or a boolean, got null'],
    ['a unary op of a string', () => exp('a' as never), 'exp: expected a Tensor, got "a"'],
    ['maskedFill into int32 out of range', () => zeros([2], { dtype: 'int32' }).maskedFill(tensor([true, false]), 1e40), 'maskedFill: value 1e+40 cannot be converted to int32 without overflow'],
    ['maskedFill with a string', () => zeros([2]).maskedFill(tensor([true, false]), 'a' as never), 'maskedFill: value must be a number or a boolean, got "a"'],
    ['an integer to a negative power', () => arange(3).pow(-1), 'pow: integers to negative integer powers are not allowed (exponent -1, base int32 [3]); cast the base to float first'],
    ['fractional split sizes', () => zeros([5]).split([2.5, 2.5]), 'split: sizes [2.5, 2.5] must be non-negative integers (2.5 is not)'],
    ['a fractional split size', () => zeros([5]).split(1.5), 'split: size must be a positive integer, got 1.5 (shape [5], dim 0)'],
    ['a fractional slice bound', () => zeros([5]).slice(0, 1.5), 'slice: start must be an integer, got 1.5 (shape [5], dim 0)'],
    ['a NaN slice bound', () => zeros([5]).slice(0, 0, NaN), 'slice: end must be an integer, got NaN (shape [5], dim 0)'],
    ['slicing a 0-d tensor', () => tensor(3).slice(0, 0, 1), 'slice: cannot slice a 0-d tensor (shape []); reshape it to [1] first'],
    ['narrow past the end', () => arange(5).narrow(0, 4, 2), 'narrow: start 4 + length 2 exceeds the size (dim 0 of size 5, shape [5])'],
    ['narrow before the start', () => arange(5).narrow(0, -6, 1), 'narrow: start -6 is not an integer in [-5, 5] (dim 0 of size 5, shape [5])'],
    ['narrow with a negative length', () => arange(5).narrow(0, 0, -1), 'narrow: length -1 is not a non-negative integer (dim 0 of size 5, shape [5])'],
    ['zero chunks', () => zeros([4]).chunk(0), 'chunk: chunks must be a positive integer, got 0'],
    ['a NaN arange bound', () => arange(0, NaN), 'arange: end must be a finite number, got NaN'],
    ['an arange running backwards', () => arange(5, 0), 'arange: the range [5, 0) and step 1 point in opposite directions'],
    ['an int32 arange step that truncates to 0', () => arange(0, 3, 0.5, { dtype: 'int32' }), 'arange: step 0.5 truncates to 0 for int32'],
    ['a NaN linspace bound', () => linspace(NaN, 1, 3), 'linspace: start must be a finite number, got NaN'],
    ['fractional linspace steps', () => linspace(0, 1, 2.5), 'linspace: steps must be a non-negative integer, got 2.5'],
    ["einsum with two '->'", () => einsum('ij->ji->i', zeros([2, 2])), "einsum: 'ij->ji->i' has 2 '->'; an equation has at most one"],
    ['einsum with a stray character', () => einsum('i.j->i', zeros([2, 2])), "einsum: term 'i.j' of 'i.j->i' is not letters with at most one '...'"],
    ["einsum '...' dims that differ", () => einsum('...i,...i->...', zeros([2, 3]), zeros([4, 3])), "einsum: '...' dim -1 has size 2 and 4 in '...i,...i->...'"],
    ["einsum '...' with too few dims", () => einsum('ij...k', zeros([2, 2])), "einsum: term 'ij...k' does not fit operand 0 of shape [2, 2]"],
    ['where with a number condition', () => where(1 as never, 1, 2), 'where: condition must be a bool Tensor, got 1'],
    ['a fractional tril diagonal', () => tril(zeros([2, 2]), 0.5), 'tril: diagonal must be an integer, got 0.5'],
    ['tidy of a non-function', () => tidy(3 as never), 'tidy: expected a function, got number'],
    ['a typed array Wedge does not store', () => tensor(new Int16Array(2) as never), "tensor: Int16Array is not one of Wedge's storage types (Float32Array, Float64Array, Int32Array, Uint8Array)"],
    ['options that are not an object', () => zeros([2], 'float64' as never), 'zeros: options must be an object, got "float64"'],
    ['fullLike of a non-tensor', () => fullLike([1, 2] as never, 0), 'fullLike: expected a Tensor, got an array of 2'],
    ['a safetensors header nested 100,000 deep', () => decodeSafetensors(safetensorsWithHeader(`{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)),
      'loadSafetensors: safetensors: the header nests 100001 levels deep (a valid one nests 3; the limit is 64)'],
    ['reshape of a string', () => reshape('a' as never, [2]), 'reshape: expected a Tensor, got "a"'],
    ['matmul with a number', () => matmul(zeros([2]), 3 as never), 'matmul: expected a Tensor, got 3'],
    ['cat with a string entry', () => cat([zeros([2]), 'x' as never]), 'cat: entry 1 is not a Tensor (got "x")'],
    ['sum of a plain object', () => sum({} as never), 'sum: expected a Tensor, got an object'],
    ['softmax of null', () => softmax(null as never, 0), 'softmax: expected a Tensor, got null'],
  ];
  for (const [what, call, message] of TABLE) {
    it(what, () => expect(messageOf(call)).toBe(message));
  }
});

describe('recorded op names', () => {
  it('clone() is recorded as clone, contiguous() of a view as contiguous', () => {
    const x = leaf([2, 3]);
    expect(x.clone().gradFn).toBe('clone');
    expect(x.mT.contiguous().gradFn).toBe('contiguous');
  });
});

describe('huge allocations say which op, which shape and how many bytes', () => {
  const LIMIT = 'one tensor holds at most 2147483647 elements';
  it('zeros, matmul, a contiguous copy of an expanded view, and Embedding', () => {
    expect(messageOf(() => zeros([1e6, 1e6]))).toBe(
      `zeros: shape [1000000, 1000000] has 1000000000000 elements, 4000000000000 bytes (3.6 TiB) as float32; ${LIMIT}`,
    );
    expect(messageOf(() => matmul(zeros([100000, 1]), zeros([1, 100000])))).toBe(
      `matmul: shape [100000, 100000] has 10000000000 elements, 40000000000 bytes (37.3 GiB) as float32; ${LIMIT}`,
    );
    expect(messageOf(() => zeros([1]).expand([100000, 100000]).contiguous())).toBe(
      `contiguous: shape [100000, 100000] has 10000000000 elements, 40000000000 bytes (37.3 GiB) as float32; ${LIMIT}`,
    );
    expect(messageOf(() => new Embedding(2 ** 31, 4))).toBe(
      `Embedding: shape [2147483648, 4] has 8589934592 elements, 34359738368 bytes (32.0 GiB) as float32; ${LIMIT}`,
    );
    expect(messageOf(() => new Embedding(2.5, 4))).toBe('Embedding: numEmbeddings must be a non-negative integer, got 2.5');
  });
});

describe('an engine that runs out of memory', () => {
  it('is a WedgeError naming the kernel, the backend and the input shapes', () => {
    const previous = getBackend().name;
    registerBackend({ name: 'tiny-memory', kernels: { exp: () => { throw new RangeError('Array buffer allocation failed'); } } });
    setBackend('tiny-memory');
    try {
      expect(messageOf(() => zeros([2, 3]).exp())).toBe(
        'exp: out of memory on backend tiny-memory (inputs float32 [2, 3]): Array buffer allocation failed',
      );
    } finally {
      setBackend(previous);
    }
  });
});

describe('modules, optimizers and checkpoints refuse damaged input', () => {
  it('loadStateDict(null)', () => {
    expect(messageOf(() => new Linear(2, 2).loadStateDict(null as never))).toBe(
      'loadStateDict: expected an object of named tensors (such as loadSafetensors(path).tensors), got null',
    );
  });
  it('a gradient with the right number of elements but the wrong shape', () => {
    const p = new Parameter(zeros([2, 3]));
    p.grad = zeros([3, 2]);
    expect(messageOf(() => new SGD([p], { lr: 0.1 }).step())).toBe('SGD.step: gradient [3, 2] does not match parameter [2, 3]');
    p.grad = [0, 0, 0, 0, 0, 0] as never;
    expect(messageOf(() => new SGD([p], { lr: 0.1 }).step())).toBe('SGD.step: the gradient of a parameter [2, 3] is an array of 6, not a Tensor');
  });
  it('damaged optimizer-state metadata', () => {
    expect(messageOf(() => optimizerStateFromTensors({}, { optimizer: '{"paramGroups": [' }))).toBe(
      "optimizerStateFromTensors: the 'optimizer' metadata is not valid JSON (Unexpected end of JSON input); the checkpoint is damaged",
    );
    expect(messageOf(() => optimizerStateFromTensors({}, { optimizer: '{"paramGroups": []}' }))).toBe(
      "optimizerStateFromTensors: the 'optimizer' metadata has no scalars object (got undefined); the checkpoint is damaged",
    );
    expect(messageOf(() => optimizerStateFromTensors(null as never, { optimizer: '{}' }))).toBe(
      'optimizerStateFromTensors: tensors must be an object of named tensors, got null',
    );
    expect(messageOf(() => optimizerStateFromTensors({}, { optimizer: '{"paramGroups": 3, "scalars": {}}' }))).toBe(
      'optimizerStateFromTensors: paramGroups must be an array, got 3',
    );
    const adam = () => new Adam([new Parameter(zeros([2]))]);
    expect(messageOf(() => adam().loadStateDict(null as never))).toBe('Adam.loadStateDict: expected a state dict {state, paramGroups}, got null');
    expect(messageOf(() => adam().loadStateDict({ state: {}, paramGroups: [{ params: [0], betas: 3 } as never] }))).toBe(
      'Adam: betas must be a pair [beta1, beta2], got 3',
    );
  });
});
