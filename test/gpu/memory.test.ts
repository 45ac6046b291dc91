// GPU memory has an owner: outputs stay on the GPU until read, dispose() and tidy() free textures,
// and 300 training steps leave the live texture count flat.
import { describe, it, beforeAll, expect } from 'vitest';
import { Generator, Linear, SGD, crossEntropy, randint, randn, tidy, runKernel, Module, type Tensor } from '@wedge/core';
import { gpuMemory } from '@wedge/gpu';
import { MODES, activate } from './harness.ts';

class Mlp extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(generator: Generator) {
    super();
    this.fc1 = new Linear(8, 32, { generator });
    this.fc2 = new Linear(32, 4, { generator });
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh()); // [N, 4]
  }
}

for (const { mode, skip } of MODES) {
  describe.skipIf(skip)(`gpu memory (${mode})`, () => {
    beforeAll(() => activate(mode));

    it('keeps a chain of kernels on the GPU: nothing is downloaded until a value is read', () => {
      const g = new Generator(1);
      const [a, b, c] = [randn([64, 64], { generator: g }), randn([64, 64], { generator: g }), randn([64, 64], { generator: g })];
      const before = gpuMemory();
      const y = a.matmul(b).relu().matmul(c).softmax(-1);
      const after = gpuMemory();
      expect(y.device).toBe('gpu');
      expect(after.downloads).toBe(before.downloads);
      expect(after.uploads - before.uploads).toBe(3); // a, b and c, once each
      y.data();
      y.data();
      expect(gpuMemory().downloads).toBe(before.downloads + 1); // read once, then cached
    });

    it("a kernel fed its own previous output (exp∘exp∘exp) does not overwrite a live result", () => {
      const x = randn([70, 70], { generator: new Generator(5) }).mul(0.3);
      const e1 = x.exp();
      const e2 = e1.exp(); // same kernel signature as e1 (a [70, 70] texture in), reads e1
      const e3 = e2.exp();
      const want = Float64Array.from(x.data(), (v) => Math.exp(Math.exp(Math.exp(v))));
      const [d1, d3] = [e1.data(), e3.data()];
      d3.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-4 * want[i]));
      d1.forEach((v, i) => expect(v).toBeCloseTo(Math.exp(x.data()[i]), 5)); // e1 still holds exp(x)
    });

    it('dispose() frees the texture, and a disposed tensor cannot feed a kernel', () => {
      const x = randn([100], { generator: new Generator(2) }).exp();
      const live = gpuMemory().liveTextures;
      x.dispose();
      expect(gpuMemory().liveTextures).toBe(live - 1);
      x.dispose(); // twice is harmless
      expect(gpuMemory().liveTextures).toBe(live - 1);
      expect(() => runKernel('exp', [x], { dtype: 'float32' })).toThrow('exp: an input tensor was disposed');
      expect(() => x.storage.read()).toThrow('GpuStorage: used after dispose() (float32, 100 elements)');
    });

    it('tidy() frees every texture the function made except the one it returns', () => {
      const x = randn([50, 50], { generator: new Generator(3) });
      const live = gpuMemory().liveTextures;
      const y = tidy(() => x.exp().mul(2).add(x).sum(-1));
      expect(gpuMemory().liveTextures).toBe(live + 1);
      expect(y.device).toBe('gpu');
      y.dispose();
      expect(gpuMemory().liveTextures).toBe(live);
    });

    it('300 training steps of an MLP under tidy(): live textures flat, none left to the GC, loss falls', () => {
      const g = new Generator(4);
      const model = new Mlp(g);
      const opt = new SGD(model.parameters(), { lr: 0.5 });
      const x = randn([64, 8], { generator: g });
      const y = randint(0, 4, [64], { generator: g });
      const live: number[] = [];
      const losses: number[] = [];
      const { freedByGc: gcBefore, created: createdBefore } = gpuMemory();
      for (let step = 0; step < 300; step++) {
        tidy(() => {
          const loss = crossEntropy(model.forward(x), y);
          loss.backward();
          opt.step();
          opt.zeroGrad();
          losses.push(loss.item());
        });
        live.push(gpuMemory().liveTextures);
      }
      expect(new Set(live).size, `live textures per step: ${live.slice(0, 5).join(', ')} … ${live.slice(-5).join(', ')}`).toBe(1);
      expect(gpuMemory().freedByGc).toBe(gcBefore);
      // not flat by doing nothing: each step made (and freed) its forward and backward textures
      expect(gpuMemory().created - createdBefore).toBeGreaterThan(300 * 15);
      expect(losses[299]).toBeLessThan(0.5 * losses[0]);
    });
  });
}
