import { describe, expect, it } from 'vitest';
import { Generator, decodeSafetensors, encodeSafetensors, randn, tidy } from '@wedge/core';
import {
  DivergenceError, type TrainCheckpoint, type TrainConfig, TestModel, evaluate, evaluateLengths, makeEvalSet, trainComparison, trainModel,
} from '@wedge/models';

/** CI-sized: a short vocabulary and sequence and a larger step size, so both learn in 200 steps. */
const SMALL: TrainConfig = {
  attnTypes: ['standard', 'triple'],
  steps: 200,
  batchSize: 16,
  seqLen: 16,
  vocab: 8,
  dModel: 32,
  nHead: 2,
  lr: 5e-3,
  seed: 0,
  evalEvery: 50,
  evalSize: 64,
};

describe('trainComparison', () => {
  it('teaches both attentions to copy: accuracy on the copied half rises far above chance', () => {
    const evals: string[] = [];
    let steps = 0;
    const result = trainComparison(SMALL, { onEval: (a, p) => evals.push(`${a}@${p.step}`), onStep: () => steps++ });
    expect(result.models.map((m) => m.attnType)).toEqual(['standard', 'triple']);
    expect(steps).toBe(400);
    expect(evals).toEqual(['standard@0', 'standard@50', 'standard@100', 'standard@150', 'standard@200', 'triple@0', 'triple@50', 'triple@100', 'triple@150', 'triple@200']);
    expect(result.chance).toBe(1 / 8);
    expect(result.lossFloor).toBeCloseTo((7 / 15) * Math.log(8), 12);
    for (const m of result.models) {
      const first = m.history[0];
      expect(first.copyAccuracy).toBeLessThan(0.3); // untrained: about chance (1/8)
      expect(m.final.copyAccuracy).toBeGreaterThan(0.8); // > 6× chance (both reach ≈ 100 % here)
      expect(m.final.evalLoss).toBeLessThan(first.evalLoss - 0.3);
      expect(m.final.evalLoss).toBeGreaterThan(result.lossFloor - 0.05); // nobody beats the floor
      expect(m.trainLosses).toHaveLength(200);
      expect(m.stepMs.median).toBeGreaterThan(0);
      expect(m.final.trainLoss).toBeCloseTo(m.trainLosses.slice(150).reduce((a, b) => a + b) / 50, 10);
    }
    const standard = result.models[0];
    expect(standard.stepsTo99).not.toBeNull();
    expect(standard.history.find((p) => p.step === standard.stepsTo99)!.copyAccuracy).toBeGreaterThanOrEqual(0.99);
  });

  it('is reproducible: the same seed gives the same losses', () => {
    const cfg = { ...SMALL, attnTypes: ['triple' as const], steps: 5, evalEvery: 5, evalSize: 16 };
    const a = trainComparison(cfg).models[0];
    const b = trainComparison(cfg).models[0];
    expect(b.trainLosses).toEqual(a.trainLosses);
    expect(b.final).toMatchObject({ evalLoss: a.final.evalLoss, copyAccuracy: a.final.copyAccuracy });
  });

  it('starts from given weights', () => {
    const cfg = { ...SMALL, attnTypes: ['standard' as const], steps: 1, evalEvery: 1, evalSize: 16 };
    const donor = new TestModel({ vocab: 8, dModel: 32, nHead: 2, maxLen: 16, attnType: 'standard', generator: new Generator(99) });
    const evalSet = makeEvalSet(16, 16, 16, 8, SMALL.seed + 2); // trainComparison's eval set
    const expected = evaluate(donor, evalSet).loss;
    const result = trainComparison({ ...cfg, init: { standard: donor.stateDict() } });
    expect(result.models[0].history[0].evalLoss).toBeCloseTo(expected, 6);
  });

  it('names a bad config value', () => {
    expect(() => trainComparison({ ...SMALL, steps: 0 })).toThrow('trainComparison: steps must be a positive integer, got 0');
    expect(() => trainComparison({ ...SMALL, lr: -1 })).toThrow('trainComparison: lr must be a positive number, got -1');
    expect(() => trainComparison({ ...SMALL, dModel: 30, nHead: 2 })).toThrow(
      'trainComparison: dModel (30) must be nHead (2) times an even head size',
    );
  });
});

describe('tidy() around a training step', () => {
  it('frees the step’s temporaries but never the weights its views share', () => {
    const model = new TestModel({ vocab: 4, dModel: 8, nHead: 2, maxLen: 4, attnType: 'triple', generator: new Generator(0) });
    const x = randn([1, 3, 8]);
    tidy(() => model.attn.forward(x).sum().item());
    expect(model.parameters().every((p) => !p.disposed)).toBe(true);
    expect(model.buffers().every((b) => !b.disposed)).toBe(true);
    expect(() => model.attn.forward(x)).not.toThrow();
  });
});

describe('trainModel', () => {
  const C: TrainConfig = { ...SMALL, steps: 12, evalEvery: 4, evalSize: 16, batchSize: 8 };
  const numbers = (r: ReturnType<typeof trainModel>) => ({
    losses: r.trainLosses,
    history: r.history.map((p) => ({ ...p, elapsedMs: 0 })),
    weights: Object.fromEntries(Object.entries(r.model.stateDict()).map(([k, t]) => [k, Array.from(t.data())])),
  });

  it.each(['standard', 'triple'] as const)('resumed from a checkpoint ends %s with the uninterrupted run’s numbers, bit for bit', (attnType) => {
    const whole = trainModel(attnType, C);
    const saved: TrainCheckpoint[] = [];
    trainModel(attnType, C, { checkpointEvery: 5, onCheckpoint: (ckpt) => saved.push(ckpt) });
    expect(saved).toHaveLength(2); // steps 5 and 10, never at the last step
    // through the bytes of a file, as the CLI keeps it
    const file = decodeSafetensors(encodeSafetensors(saved[0].tensors, saved[0].metadata));
    const resumed = trainModel(attnType, C, { resume: { tensors: file.tensors, metadata: file.metadata } });
    expect(numbers(resumed)).toEqual(numbers(whole));
  });

  it('stops with a DivergenceError naming the model and step when a number stops being finite', () => {
    expect(() => trainModel('triple', { ...C, lr: 1e6 })).toThrow(DivergenceError);
    expect(() => trainModel('triple', { ...C, lr: 1e6 })).toThrow(/^triple model diverged at step \d+: (training loss|held-out loss) NaN|weight '.*' holds/);
  });

  it('scales the hub tokens’ initial embeddings and nothing else', () => {
    const plain = new TestModel({ vocab: 8, dModel: 32, nHead: 2, maxLen: 16, attnType: 'standard', generator: new Generator(0) });
    const hub = trainModel('standard', { ...C, steps: 1, hubTokens: 2, hubScale: 10 }, { callbacks: { onModelStart: (_a, m) => (started = Array.from(m.embed.weight.data())) } });
    void hub;
    const base = Array.from(plain.embed.weight.data());
    started.forEach((v, i) => expect(v).toBeCloseTo(i < 2 * 32 ? 10 * base[i] : base[i], 5));
    expect(() => trainModel('standard', { ...C, hubTokens: 9 })).toThrow('hubTokens must be an integer in [0, vocab = 8], got 9');
  });
  let started: number[] = [];

  it('trains the same with RoPE tables sized for longer evaluation, and evaluates at those lengths', () => {
    const short = trainModel('triple', C);
    const long = trainModel('triple', { ...C, maxLen: 64 });
    expect(numbers(long).losses).toEqual(numbers(short).losses);
    const rows = evaluateLengths(long.model, [32, 64], { size: 8, batchSize: 8, trainSeqLen: 16, vocab: 8, seed: 0 });
    expect(rows.map((r) => r.seqLen)).toEqual([32, 64]);
    for (const r of rows) expect(r.copyAccuracy).toBeGreaterThanOrEqual(0);
    expect(() => evaluateLengths(short.model, [32], { size: 8, batchSize: 8, trainSeqLen: 16, vocab: 8, seed: 0 })).toThrow('length 32 needs RoPE tables of 31 rows, the model has 16');
  });
});
