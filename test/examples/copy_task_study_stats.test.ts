// The study's statistics and figure helpers: Student-t intervals, seeds that never reach 99 %,
// the paired difference, and the loss axis that no longer always reaches down to the floor.
import { describe, expect, it } from 'vitest';
import type { JobResult } from '../../examples/copy_task/job.ts';
import { curveRows, lossDomain } from '../../examples/copy_task/plot.ts';
import { meanCi, pairedDifference, summarize, tQuantile975 } from '../../examples/copy_task/study.ts';

/** A job result with only the fields the summaries read. */
function job(attnType: 'standard' | 'triple', seed: number, stepsTo99: number | null, evalLoss: number, acc: number): JobResult {
  const final = { step: 4, trainLoss: 2, evalLoss, copyAccuracy: acc, elapsedMs: 1 };
  return {
    attnType, seed, parameters: 1, stepsTo99, final, probe: null, lengths: null, modelFile: '', resumed: false, backend: 'wasm (1 thread)', stepMs: { mean: 1, median: 1 },
    trainLosses: [3, 2.5, 2.2, 2], history: [{ step: 0, trainLoss: null, evalLoss: 3, copyAccuracy: 0.1, elapsedMs: 0 }, final],
  };
}

describe('meanCi', () => {
  it('is mean ± t(0.975, n − 1)·s/√n (values of the t table: 12.706 at 1 df, 2.776 at 4, 2.042 at 30)', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(30)).toBe(2.042);
    expect(tQuantile975(200)).toBe(1.96);
    const c = meanCi([1, 2, 3]);
    expect(c.mean).toBe(2);
    expect(c.sd).toBe(1);
    expect(c.ci95![0]).toBeCloseTo(2 - 4.303 / Math.sqrt(3), 12);
    expect(c.ci95![1]).toBeCloseTo(2 + 4.303 / Math.sqrt(3), 12);
    const five = meanCi([10, 12, 9, 11, 13]); // s = √2.5
    expect(five.ci95![1] - five.mean!).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 12);
  });

  it('has no interval for one value and no mean for none', () => {
    expect(meanCi([4])).toEqual({ mean: 4, ci95: null, n: 1, sd: null });
    expect(meanCi([])).toEqual({ mean: null, ci95: null, n: 0, sd: null });
  });
});

describe('summarize and pairedDifference', () => {
  const results = [
    job('standard', 0, 200, 1.45, 1), job('standard', 1, null, 1.6, 0.9), job('standard', 2, 175, 1.44, 1),
    job('triple', 0, 150, 1.43, 1), job('triple', 1, 225, 1.5, 0.99), job('triple', 2, 150, 1.43, 1),
  ];
  it('averages steps to 99 % over the seeds that got there and counts the others', () => {
    const s = summarize(results, ['standard', 'triple']);
    expect(s.standard!.stepsTo99).toMatchObject({ mean: 187.5, n: 2, notReached: 1, values: [200, null, 175] });
    expect(s.triple!.stepsTo99).toMatchObject({ mean: 175, n: 3, notReached: 0 });
    expect(s.standard!.finalCopyAccuracy.values).toEqual([1, 0.9, 1]);
  });
  it('pairs the models seed by seed (triple − standard), steps only where both reached 99 %', () => {
    const d = pairedDifference(results)!;
    expect(d.stepsTo99).toMatchObject({ mean: -37.5, n: 2 });
    expect(d.finalEvalLoss.mean).toBeCloseTo((-0.02 - 0.1 - 0.01) / 3, 12);
    expect(d.finalEvalLoss.n).toBe(3);
  });
});

describe('the curves', () => {
  it('plot the training loss at every step, with min–max bands across seeds', () => {
    const rows = curveRows([job('standard', 0, null, 2, 0.5), { ...job('standard', 1, null, 2, 0.5), trainLosses: [4, 3, 2, 1] }]);
    const train = rows.filter((r) => r.series === 'train loss');
    expect(train.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(train[0]).toMatchObject({ mean: 3.5, lo: 3, hi: 4 });
  });
  it('show the loss floor only when the curves come near it, and never pin the axis to it', () => {
    const near = lossDomain([{ model: 's', step: 0, series: 'eval loss', mean: 1.5, lo: 1.4, hi: 2.8 }], 1.36);
    expect(near.showFloor).toBe(true);
    expect(near.domain[0]).toBeLessThan(1.36);
    const far = lossDomain([{ model: 's', step: 0, series: 'eval loss', mean: 2.7, lo: 2.6, hi: 2.8 }], 1.36);
    expect(far.showFloor).toBe(false);
    expect(far.domain[0]).toBeGreaterThan(2.5);
  });
});
