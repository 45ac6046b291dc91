// Across seeds: the mean and a 95 % Student-t interval on the mean, per model and metric, the
// paired difference triple − standard (both models of a seed share batches and the held-out set),
// and the probe and length tables averaged over seeds.
import type { AttnType } from '@wedge/models';
import type { JobResult } from './job.ts';

/** Two-sided 97.5 % quantiles of Student's t for 1 … 30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101,
  2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t_{0.975, df}: the table above, then the normal's 1.96 past 30 (within 2 % there). */
export const tQuantile975 = (df: number): number => (df >= 1 && df <= 30 ? T975[df - 1] : 1.96);

/** The mean of n values with its 95 % Student-t interval, mean ± t_{0.975, n−1}·s/√n (null bounds when n < 2). */
export interface MeanCi {
  mean: number | null;
  ci95: [number, number] | null;
  n: number;
  /** Sample standard deviation (null when n < 2). */
  sd: number | null;
}

/**
 * @example meanCi([1, 2, 3]) // { mean: 2, ci95: [−0.484, 4.484], n: 3, sd: 1 }
 */
export function meanCi(xs: readonly number[]): MeanCi {
  const n = xs.length;
  if (n === 0) return { mean: null, ci95: null, n: 0, sd: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci95: null, n, sd: null };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return { mean, ci95: [mean - half, mean + half], n, sd };
}

export interface ModelSummary {
  seeds: number[];
  /** First evaluated step with copy accuracy ≥ 99 %, over the seeds that got there (n of `seeds`). */
  stepsTo99: MeanCi & { notReached: number; values: (number | null)[] };
  finalEvalLoss: MeanCi & { values: number[] };
  finalCopyAccuracy: MeanCi & { values: number[] };
}

const byModel = (results: readonly JobResult[], a: AttnType): JobResult[] => results.filter((r) => r.attnType === a).sort((x, y) => x.seed - y.seed);

/** Per model: the three headline metrics across seeds. */
export function summarize(results: readonly JobResult[], attnTypes: readonly AttnType[]): Partial<Record<AttnType, ModelSummary>> {
  const out: Partial<Record<AttnType, ModelSummary>> = {};
  for (const a of attnTypes) {
    const rs = byModel(results, a);
    if (rs.length === 0) continue;
    const steps = rs.map((r) => r.stepsTo99);
    const reached = steps.filter((s): s is number => s !== null);
    out[a] = {
      seeds: rs.map((r) => r.seed),
      stepsTo99: { ...meanCi(reached), notReached: steps.length - reached.length, values: steps },
      finalEvalLoss: { ...meanCi(rs.map((r) => r.final.evalLoss)), values: rs.map((r) => r.final.evalLoss) },
      finalCopyAccuracy: { ...meanCi(rs.map((r) => r.final.copyAccuracy)), values: rs.map((r) => r.final.copyAccuracy) },
    };
  }
  return out;
}

/**
 * triple − standard per seed (paired: the same batches and held-out set), then meanCi of the
 * differences. stepsTo99 uses only the seeds where both reached 99 %.
 */
export function pairedDifference(results: readonly JobResult[]): Record<'stepsTo99' | 'finalEvalLoss' | 'finalCopyAccuracy', MeanCi> | null {
  const s = byModel(results, 'standard');
  const t = byModel(results, 'triple');
  const pairs = s.map((r) => [r, t.find((x) => x.seed === r.seed)] as const).filter((p): p is readonly [JobResult, JobResult] => p[1] !== undefined);
  if (pairs.length === 0) return null;
  const steps = pairs.filter(([a, b]) => a.stepsTo99 !== null && b.stepsTo99 !== null).map(([a, b]) => b.stepsTo99! - a.stepsTo99!);
  return {
    stepsTo99: meanCi(steps),
    finalEvalLoss: meanCi(pairs.map(([a, b]) => b.final.evalLoss - a.final.evalLoss)),
    finalCopyAccuracy: meanCi(pairs.map(([a, b]) => b.final.copyAccuracy - a.final.copyAccuracy)),
  };
}

export interface ProbeSummaryRow {
  magnitude: number;
  /** Mean over seeds. */
  attentionMass: number;
  copyAccuracy: number;
  attentionMassCi95: [number, number] | null;
  copyAccuracyCi95: [number, number] | null;
  n: number;
}

/** The probe per model, averaged over seeds: the magnitudes m ≥ 1, and the unperturbed baseline (m = 0) apart. */
export function summarizeProbe(results: readonly JobResult[], attnTypes: readonly AttnType[]): {
  probe: Partial<Record<AttnType, ProbeSummaryRow[]>>;
  baseline: Partial<Record<AttnType, ProbeSummaryRow>>;
} {
  const probe: Partial<Record<AttnType, ProbeSummaryRow[]>> = {};
  const baseline: Partial<Record<AttnType, ProbeSummaryRow>> = {};
  for (const a of attnTypes) {
    const rs = byModel(results, a).filter((r) => r.probe !== null);
    if (rs.length === 0) continue;
    const rows = rs[0].probe!.map((row, i): ProbeSummaryRow => {
      const mass = meanCi(rs.map((r) => r.probe![i].attentionMass));
      const acc = meanCi(rs.map((r) => r.probe![i].copyAccuracy));
      return { magnitude: row.magnitude, attentionMass: mass.mean!, copyAccuracy: acc.mean!, attentionMassCi95: mass.ci95, copyAccuracyCi95: acc.ci95, n: rs.length };
    });
    baseline[a] = rows.find((r) => r.magnitude === 0);
    probe[a] = rows.filter((r) => r.magnitude !== 0);
  }
  return { probe, baseline };
}

export interface LengthSummaryRow {
  seqLen: number;
  copyAccuracy: number;
  copyAccuracyCi95: [number, number] | null;
  n: number;
}

/** Copy accuracy per length and model, averaged over seeds; the training length first (its final eval). */
export function summarizeLengths(results: readonly JobResult[], attnTypes: readonly AttnType[], trainSeqLen: number): Partial<Record<AttnType, LengthSummaryRow[]>> {
  const out: Partial<Record<AttnType, LengthSummaryRow[]>> = {};
  for (const a of attnTypes) {
    const rs = byModel(results, a).filter((r) => r.lengths !== null);
    if (rs.length === 0) continue;
    const row = (seqLen: number, values: number[]): LengthSummaryRow => {
      const s = meanCi(values);
      return { seqLen, copyAccuracy: s.mean!, copyAccuracyCi95: s.ci95, n: values.length };
    };
    out[a] = [row(trainSeqLen, rs.map((r) => r.final.copyAccuracy)), ...rs[0].lengths!.map((l, i) => row(l.seqLen, rs.map((r) => r.lengths![i].copyAccuracy)))];
  }
  return out;
}
