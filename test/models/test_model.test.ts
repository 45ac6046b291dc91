import { describe, expect, it } from 'vitest';
import { Generator, crossEntropy, decodeSafetensors, encodeSafetensors } from '@wedge/core';
import { TestModel, generateCopyBatch } from '@wedge/models';
import { assertClose } from '../helpers/assert_close.ts';
import { loadFixture, modelFromFixture } from './fixtures.ts';

describe('TestModel', () => {
  it('maps ids [B, T] to logits [B, T, V] with the seed’s state-dict keys', () => {
    const standard = new TestModel({ vocab: 16, dModel: 32, nHead: 4, maxLen: 16, attnType: 'standard' });
    const triple = new TestModel({ vocab: 16, dModel: 32, nHead: 4, maxLen: 16, attnType: 'triple' });
    const [inputs] = generateCopyBatch(3, 16, 16, new Generator(0));
    expect(standard.forward(inputs).shape).toEqual([3, 15, 16]);
    expect(triple.forward(inputs).shape).toEqual([3, 15, 16]);
    expect(Object.keys(standard.stateDict())).toEqual([
      'embed.weight', 'attn.qkv.weight', 'attn.o.weight', 'attn.rope.cos', 'attn.rope.sin', 'unembed.weight',
    ]);
    expect(Object.keys(triple.stateDict())).toEqual([
      'embed.weight', 'attn.W_q.weight', 'attn.W_k.weight', 'attn.W_r.weight', 'attn.W_v.weight', 'attn.W_o.weight',
      'attn.rope.cos', 'attn.rope.sin', 'unembed.weight',
    ]);
  });

  it('refuses an unknown attention type', () => {
    expect(() => new TestModel({ vocab: 4, dModel: 8, nHead: 2, maxLen: 4, attnType: 'cosine' as 'standard' })).toThrow(
      "TestModel: attnType must be 'standard' or 'triple', got 'cosine'",
    );
  });

  it('draws the same weights from the same seed', () => {
    const make = (): TestModel => new TestModel({ vocab: 8, dModel: 8, nHead: 2, maxLen: 4, attnType: 'triple', generator: new Generator(7) });
    assertClose(make().attn.parameters()[2], make().attn.parameters()[2], { atol: 0, rtol: 0 });
  });

  it('survives a safetensors round trip', () => {
    const a = new TestModel({ vocab: 8, dModel: 8, nHead: 2, maxLen: 4, attnType: 'standard', generator: new Generator(1) });
    const b = new TestModel({ vocab: 8, dModel: 8, nHead: 2, maxLen: 4, attnType: 'standard', generator: new Generator(2) });
    b.loadStateDict(decodeSafetensors(encodeSafetensors(a.stateDict())).tensors);
    for (const [k, v] of Object.entries(a.stateDict())) assertClose(b.stateDict()[k], v, { atol: 0, rtol: 0, label: k });
  });

  describe.each(['small', 'default'])('against the seed’s PyTorch model (%s config)', (config) => {
    it.each(['standard', 'triple'])('%s: logits, loss and every parameter gradient agree', (attnType) => {
      const f = loadFixture(`models_${config}_${attnType}.safetensors`);
      const model = modelFromFixture(f);
      const V = model.config.vocab;
      const logits = model.forward(f.tensors.ids);
      assertClose(logits, f.tensors.logits, { atol: 1e-5, rtol: 1e-4, label: 'logits' });
      const loss = crossEntropy(logits.reshape([-1, V]), f.tensors.targets.reshape([-1]));
      expect(loss.item()).toBeCloseTo(f.tensors.loss.item(), 5);
      loss.backward();
      const grads = f.under('grad');
      expect(model.namedParameters().map(([k]) => k)).toEqual(Object.keys(grads));
      for (const [k, p] of model.namedParameters()) {
        assertClose(p.grad!, grads[k], { atol: 2e-6, rtol: 1e-3, label: `grad ${k}` });
      }
    });
  });
});
