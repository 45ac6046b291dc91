import { describe, expect, it } from 'vitest';
import { Generator, tensor } from '@wedge/core';
import { copyAccuracy, copyStart, evenSeqLen, generateCopyBatch, lossFloor } from '@wedge/models';

describe('generateCopyBatch', () => {
  it('gives int32 inputs and targets [B, seqLen − 1], targets shifted by one', () => {
    const [inputs, targets] = generateCopyBatch(4, 10, 7, new Generator(0));
    expect(inputs.shape).toEqual([4, 9]);
    expect(targets.shape).toEqual([4, 9]);
    expect(inputs.dtype).toBe('int32');
    expect(targets.dtype).toBe('int32');
    const x = inputs.toArray() as number[][];
    const y = targets.toArray() as number[][];
    for (let b = 0; b < 4; b++) {
      expect(x[b].slice(1)).toEqual(y[b].slice(0, -1)); // targets = data[:, 1:], inputs = data[:, :-1]
      const data = [...x[b], y[b][8]]; // [10]
      expect(data.slice(5)).toEqual(data.slice(0, 5)); // the second half copies the first
      expect(data.every((v) => Number.isInteger(v) && v >= 0 && v < 7)).toBe(true);
    }
  });

  it('rounds an odd seqLen up, as the seed does', () => {
    expect(evenSeqLen(9)).toBe(10);
    expect(generateCopyBatch(2, 9, 5, new Generator(0))[0].shape).toEqual([2, 9]);
  });

  it('is reproducible from the generator and differs between draws', () => {
    const a = generateCopyBatch(3, 8, 16, new Generator(5))[0].toArray();
    const g = new Generator(5);
    const first = generateCopyBatch(3, 8, 16, g)[0].toArray();
    expect(first).toEqual(a);
    expect(generateCopyBatch(3, 8, 16, g)[0].toArray()).not.toEqual(a);
  });

  it('uses every token about equally often', () => {
    const [inputs] = generateCopyBatch(64, 64, 4, new Generator(1));
    const counts = [0, 0, 0, 0];
    for (const v of inputs.data()) counts[v]++;
    for (const c of counts) expect(c / inputs.size).toBeGreaterThan(0.22);
  });

  it('refuses bad sizes with a message naming them', () => {
    expect(() => generateCopyBatch(0, 8, 4, new Generator(0))).toThrow('generateCopyBatch: batchSize must be an integer ≥ 1, got 0');
    expect(() => generateCopyBatch(2, 1, 4, new Generator(0))).toThrow('generateCopyBatch: seqLen must be an integer ≥ 2, got 1');
    expect(() => generateCopyBatch(2, 8, 2.5, new Generator(0))).toThrow('generateCopyBatch: vocabSize must be an integer ≥ 1, got 2.5');
  });
});

describe('copy-task metrics', () => {
  it('counts the copied half from target position half − 1', () => {
    expect(copyStart(64)).toBe(31);
    expect(copyStart(9)).toBe(4); // L = 10
  });

  it('puts the loss floor at (half − 1)/(L − 1) · ln V', () => {
    expect(lossFloor(64, 16)).toBeCloseTo((31 / 63) * Math.log(16), 12);
    expect(lossFloor(63, 16)).toBe(lossFloor(64, 16));
  });

  it('scores argmax accuracy on the copied half only', () => {
    // B = 1, L = 6 (T = 5): copied targets are positions 2, 3, 4
    const targets = tensor([[1, 0, 1, 1, 0]], { dtype: 'int32' });
    const pick = (ids: number[]): number[][][] => [ids.map((i) => [i === 0 ? 1 : 0, i === 1 ? 1 : 0])];
    expect(copyAccuracy(tensor(pick([0, 1, 1, 1, 0])), targets)).toBe(1); // the random half is ignored
    expect(copyAccuracy(tensor(pick([1, 0, 1, 0, 0])), targets)).toBeCloseTo(2 / 3, 12);
    expect(() => copyAccuracy(tensor(pick([1, 0, 1, 0, 0])), tensor([[1, 0]], { dtype: 'int32' }))).toThrow(
      'copyAccuracy: logits [1, 5, 2] must be [B, T, V] with targets [B, T], got targets [1, 2]',
    );
  });
});
