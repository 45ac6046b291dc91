// Module bookkeeping (names, order, buffers, modes, state dicts) and the layers' error messages.
import { describe, expect, it } from 'vitest';
import {
  Adam, Embedding, Generator, Linear, Module, Parameter, Tensor, WedgeError, crossEntropy, gradcheck, randn, tensor, zeros,
} from '@wedge/core';

class Rope extends Module {
  constructor() {
    super();
    this.registerBuffer('cos', tensor([[1, 0.5]]));
    this.registerBuffer('sin', tensor([[0, 0.25]]));
    this.registerBuffer('scratch', zeros([2]), { persistent: false });
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

class Attention extends Module {
  W_q = new Linear(2, 2, { bias: false });
  W_o = new Linear(2, 2, { bias: false });
  rope = new Rope();
  forward(x: Tensor): Tensor {
    return this.W_o.forward(this.W_q.forward(x));
  }
}

/** Mirrors the seed's TestModel: embed → attn (with a RoPE buffer) → unembed. */
class Tiny extends Module {
  embed = new Embedding(5, 2);
  attn = new Attention();
  scale = new Parameter(tensor([1]));
  blocks = [new Linear(2, 2), new Linear(2, 2, { bias: false })];
  unembed = new Linear(2, 5, { bias: false });
  notAModule = { weight: new Linear(1, 1) }; // plain objects are not searched, as in PyTorch
  forward(ids: Tensor): Tensor {
    let h = this.attn.forward(this.embed.forward(ids)).mul(this.scale);
    for (const b of this.blocks) h = b.forward(h);
    return this.unembed.forward(h);
  }
}

describe('Module discovers fields in insertion order, with PyTorch’s dotted names', () => {
  it('namedParameters: own parameters, then each child’s, depth first; arrays act as ModuleList', () => {
    expect(new Tiny().namedParameters().map(([n]) => n)).toEqual([
      'scale', 'embed.weight', 'attn.W_q.weight', 'attn.W_o.weight', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'unembed.weight',
    ]);
  });
  it('stateDict: per module its parameters then its persistent buffers, as torch’s state_dict orders them', () => {
    const m = new Tiny();
    expect(Object.keys(m.stateDict())).toEqual([
      'scale', 'embed.weight', 'attn.W_q.weight', 'attn.W_o.weight', 'attn.rope.cos', 'attn.rope.sin',
      'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'unembed.weight',
    ]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['attn.rope.cos', 'attn.rope.sin', 'attn.rope.scratch']);
    expect(m.buffers()).toHaveLength(3);
  });
  it('children and modules', () => {
    const m = new Tiny();
    expect(m.namedChildren().map(([n]) => n)).toEqual(['embed', 'attn', 'blocks.0', 'blocks.1', 'unembed']);
    expect(m.children()[1]).toBe(m.attn);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'embed', 'attn', 'attn.W_q', 'attn.W_o', 'attn.rope', 'blocks.0', 'blocks.1', 'unembed']);
  });
  it('a parameter shared by two modules is listed once (weight tying)', () => {
    const m = new Tiny();
    m.unembed.weight = m.embed.weight; // [5, 2] both
    expect(m.parameters().filter((p) => p === m.embed.weight)).toHaveLength(1);
  });
  it('stateDict values share storage with the module, detached from the graph', () => {
    const m = new Tiny();
    const sd = m.stateDict();
    expect(sd['embed.weight'].storage).toBe(m.embed.weight.storage);
    expect(sd['embed.weight'].requiresGrad).toBe(false);
    expect(sd['embed.weight']).not.toBeInstanceOf(Parameter);
  });
});

describe('Parameter', () => {
  it('is a leaf that requires grad and shares the storage of the tensor it wraps', () => {
    const t = tensor([1, 2, 3]);
    const p = new Parameter(t);
    expect(p.isLeaf && p.requiresGrad).toBe(true);
    t.storage.read()[0] = 7;
    expect(p.toArray()).toEqual([7, 2, 3]);
  });
  it('refuses an integer tensor', () => {
    expect(() => new Parameter(tensor([1], { dtype: 'int32' }))).toThrow(/only floating-point tensors can require gradients/);
  });
});

describe('train, eval and zeroGrad', () => {
  it('train(false)/eval() reach every submodule and return the module', () => {
    const m = new Tiny();
    expect(m.eval()).toBe(m);
    expect(m.modules().every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
  });
  it('zeroGrad sets every gradient to null (set_to_none)', () => {
    const m = new Tiny();
    crossEntropy(m.forward(tensor([[0, 1, 4]], { dtype: 'int32' })).reshape([-1, 5]), tensor([1, 2, 3], { dtype: 'int32' })).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });
});

describe('loadStateDict', () => {
  it('round-trips a state dict into a fresh model, copying in place (optimizers keep working)', () => {
    const a = new Tiny();
    const b = new Tiny();
    const opt = new Adam(b.parameters());
    const before = b.embed.weight;
    const storage = b.embed.weight.storage;
    expect(b.loadStateDict(a.stateDict())).toEqual({ missing: [], unexpected: [] });
    expect(b.embed.weight).toBe(before);
    expect(b.embed.weight.storage).toBe(storage);
    for (const [n, t] of Object.entries(a.stateDict())) expect(b.stateDict()[n].toArray(), n).toEqual(t.toArray());
    // the optimizer updates the parameters that now hold the loaded values
    crossEntropy(b.forward(tensor([0, 1], { dtype: 'int32' })), tensor([2, 3], { dtype: 'int32' })).backward();
    opt.step();
    expect(b.embed.weight.toArray()).not.toEqual(a.embed.weight.toArray());
  });
  it('strict: one error listing every missing and unexpected key and every mismatch, and nothing is loaded', () => {
    const m = new Tiny();
    const snapshot = Object.fromEntries(Object.entries(m.stateDict()).map(([n, t]) => [n, t.toArray()]));
    const sd = new Tiny().stateDict();
    delete sd['attn.rope.cos'];
    delete sd['scale'];
    sd['attn.W_k.weight'] = zeros([2, 2]);
    sd['unembed.weight'] = zeros([2, 5]);
    sd['embed.weight'] = zeros([5, 2], { dtype: 'float64' });
    let message = '';
    try {
      m.loadStateDict(sd);
    } catch (e) {
      expect(e).toBeInstanceOf(WedgeError);
      message = (e as Error).message;
    }
    expect(message).toBe(
      'loadStateDict: 4 problems loading into Tiny (nothing was loaded):\n' +
        "  missing keys: 'scale', 'attn.rope.cos'\n" +
        "  unexpected keys: 'attn.W_k.weight'\n" +
        "  dtype mismatch for 'embed.weight': checkpoint float64, model float32\n" +
        "  size mismatch for 'unembed.weight': checkpoint [2, 5], model [5, 2]",
    );
    expect(Object.fromEntries(Object.entries(m.stateDict()).map(([n, t]) => [n, t.toArray()]))).toEqual(snapshot);
  });
  it('non-strict: loads what matches and reports missing and unexpected keys', () => {
    const m = new Tiny();
    const { missing, unexpected } = m.loadStateDict({ 'embed.weight': zeros([5, 2]), extra: zeros([1]) }, { strict: false });
    expect(unexpected).toEqual(['extra']);
    expect(missing).toContain('attn.rope.cos');
    expect(missing).not.toContain('embed.weight');
    expect(m.embed.weight.toArray()).toEqual(Array.from({ length: 5 }, () => [0, 0]));
  });
  it('non-strict still refuses a shape mismatch (as PyTorch does)', () => {
    expect(() => new Tiny().loadStateDict({ 'embed.weight': zeros([4, 2]) }, { strict: false })).toThrow(
      "size mismatch for 'embed.weight': checkpoint [4, 2], model [5, 2]",
    );
  });
  it('loads buffers too, in place', () => {
    const m = new Tiny();
    const cos = m.attn.rope.buffers()[0];
    m.loadStateDict({ ...m.stateDict(), 'attn.rope.cos': tensor([[3, 4]]) });
    expect(cos.toArray()).toEqual([[3, 4]]);
  });
  it('writes through strided parameters', () => {
    class T extends Module {
      w = new Parameter(zeros([3, 2]).transpose(0, 1)); // [2, 3], strides [1, 2]
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new T();
    m.loadStateDict({ w: tensor([[1, 2, 3], [4, 5, 6]]) });
    expect(m.w.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });
});

describe('registerBuffer', () => {
  it('refuses dotted names and Parameters', () => {
    class Bad extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => new Bad().registerBuffer('a.b', zeros([1]))).toThrow("registerBuffer: buffer name must be non-empty and contain no '.', got 'a.b'");
    expect(() => new Bad().registerBuffer('p', new Parameter(zeros([1])))).toThrow(/must be a plain Tensor/);
  });
});

describe('layer errors name the layer, the value and the shapes', () => {
  it('Embedding: an id outside [0, num) names the id, its position and the range', () => {
    const emb = new Embedding(16, 4);
    const ids = tensor([[1, 2, 3], [4, 16, 5]], { dtype: 'int32' });
    expect(() => emb.forward(ids)).toThrow('Embedding: id 16 at position [1, 1] of ids [2, 3] is out of range [0, 16)');
    expect(() => emb.forward(tensor([-1], { dtype: 'int32' }))).toThrow('Embedding: id -1 at position [0] of ids [1] is out of range [0, 16)');
    expect(() => emb.forward(tensor([1.5]))).toThrow('Embedding: ids must be int32, got float32 [1]');
  });
  it('Embedding: any id shape, including a scalar', () => {
    const emb = new Embedding(6, 3, { generator: new Generator(1) });
    expect(emb.forward(tensor(2, { dtype: 'int32' })).toArray()).toEqual((emb.weight.toArray() as number[][])[2]);
    expect(emb.forward(zeros([2, 1, 3], { dtype: 'int32' })).shape).toEqual([2, 1, 3, 3]);
  });
  it('Linear: any leading dims, including none and empty batches', () => {
    const lin = new Linear(3, 2);
    for (const [inp, out] of [[[3], [2]], [[0, 4, 3], [0, 4, 2]], [[2, 2, 2, 3], [2, 2, 2, 2]]]) {
      expect(lin.forward(zeros(inp)).shape).toEqual(out);
    }
    // the same numbers whether the batch dims are folded or not
    const x = randn([2, 3, 3], { generator: new Generator(2) });
    const rows = [0, 1].map((b) => (lin.forward(x.slice(0, b, b + 1).reshape([3, 3])).toArray()));
    expect(lin.forward(x).toArray()).toEqual(rows);
  });
  it('Linear: input must end in inFeatures', () => {
    expect(() => new Linear(4, 3).forward(zeros([2, 5]))).toThrow('Linear: input [2, 5] must end in inFeatures = 4 (weight [3, 4])');
  });
  it('crossEntropy: shapes, dtypes and targets are checked', () => {
    const logits = zeros([3, 4]);
    expect(() => crossEntropy(logits, tensor([0, 4, 1], { dtype: 'int32' }))).toThrow(
      'crossEntropy: target 4 at position [1] is out of range [0, 4) for logits [3, 4]',
    );
    expect(() => crossEntropy(logits, tensor([0, 1], { dtype: 'int32' }))).toThrow(
      'crossEntropy: targets [2] must have shape [3] for logits [3, 4] (classes on dim 1)',
    );
    expect(() => crossEntropy(logits, tensor([0, 1, 2]))).toThrow('crossEntropy: targets must be int32 class indices, got float32 [3]');
  });
  it('crossEntropy: all targets ignored gives NaN under mean, 0 under sum', () => {
    const t = tensor([-100, -100], { dtype: 'int32' });
    expect(crossEntropy(zeros([2, 3]), t).item()).toBeNaN();
    expect(crossEntropy(zeros([2, 3]), t, { reduction: 'sum' }).item()).toBe(0);
  });
  it('crossEntropy: uniform logits over C classes give log C (hand-checkable)', () => {
    expect(crossEntropy(zeros([2, 8]), tensor([3, 5], { dtype: 'int32' })).item()).toBeCloseTo(Math.log(8), 6);
  });
});

describe('gradients pass float64 finite-difference checks', () => {
  const g = new Generator(3);
  it('crossEntropy with [N, C, d] logits and an ignored target', () => {
    const logits = randn([2, 4, 3], { generator: g, dtype: 'float64', requiresGrad: true });
    const targets = tensor([[0, -100, 3], [2, 1, 1]], { dtype: 'int32' });
    expect(gradcheck((x) => crossEntropy(x, targets), [logits])).toBe(true);
  });
  it('Linear and Embedding', () => {
    const lin = new Linear(3, 2, { generator: g, dtype: 'float64' });
    const x = randn([4, 3], { generator: g, dtype: 'float64', requiresGrad: true });
    expect(gradcheck((a, w, b) => a.matmul(w.mT).add(b), [x, lin.weight, lin.bias!])).toBe(true);
    expect(gradcheck((a) => lin.forward(a).tanh().sum(), [x])).toBe(true);
    const emb = new Embedding(5, 2, { generator: g, dtype: 'float64' });
    const ids = tensor([[1, 1], [4, 0]], { dtype: 'int32' });
    // gradcheck passes its own (perturbed) copies of the inputs: route the weight through the layer
    const withWeight = (w: Tensor): Tensor => {
      emb.weight = w as Parameter;
      return emb.forward(ids).square().sum();
    };
    expect(gradcheck(withWeight, [emb.weight])).toBe(true);
  });
});
