// The resilience analysis with the loud key's magnitude and leak as parameters: the seed's table is
// the case leak = 0.1. Computed with Wedge (float32, as the seed), through @wedge/models' gramScore.
import { type Tensor, tensor } from '@wedge/core';
import { RESILIENCE_MAGNITUDES, gramScore } from '@wedge/models';

export interface ScoreRow {
  label: string;
  magnitude: number | 'ref';
  k: number[];
  /** q · k */
  dot: number;
  /** −det G(q, k, r) */
  gram: number;
}

const Q = [1, 0, 0, 0];
const R = [0, 1, 0, 0];

const dot = (a: Tensor, b: Tensor): number => a.matmul(b).item();

/** Scores of one key against q = e₀ with reference r = e₁. */
export function scoreKey(k: readonly number[], label: string, magnitude: number | 'ref'): ScoreRow {
  const q = tensor(Q);
  const r = tensor(R);
  const kt = tensor([...k]);
  return { label, magnitude, k: Array.from(kt.data()), dot: dot(q, kt), gram: gramScore(q, kt, r).item() };
}

/** The true match (q + r)/‖q + r‖: in the plane of q and r. */
export function trueMatch(): ScoreRow {
  const q = tensor(Q);
  const qr = q.add(tensor(R)); // [4]
  const k = qr.div(qr.mul(qr).sum().sqrt()); // [4]
  return scoreKey(Array.from(k.data()), 'true match', 'ref');
}

/** A loud mismatch m·e₂ + leak·q: out of the plane by m, towards q by leak. */
export function loudKey(m: number, leak: number): ScoreRow {
  const k = tensor([0, 0, 1, 0]).mul(m).add(tensor(Q).mul(leak)); // [4], in float32 as the seed
  return scoreKey(Array.from(k.data()), `loud key, magnitude ${m}`, m);
}

/** The seed's table at this leak (its magnitudes 1, 5, 10, 50, 100), the true match first. */
export function resilienceRows(leak: number): ScoreRow[] {
  return [trueMatch(), ...RESILIENCE_MAGNITUDES.map((m) => loudKey(m, leak))];
}

/**
 * The weight a softmax over two keys gives the true match: which key a head would read.
 * @example matchWeight(0.7071, 0.1) // 0.647
 */
export function matchWeight(matchScore: number, loudScore: number): number {
  const m = Math.max(matchScore, loudScore);
  const a = Math.exp(matchScore - m);
  const b = Math.exp(loudScore - m);
  return a / (a + b);
}

/** The seed's number format: 4 decimals, −0 keeps its sign. */
export const fmt4 = (x: number): string => (x < 0 || Object.is(x, -0) ? '-' : '') + Math.abs(x).toFixed(4);
