// The seed's resilience analysis: how the Gram-determinant score and the dot product react to a
// "loud" key (large norm, nearly orthogonal to the query). Same vectors, same float32 numbers.
import { type Tensor, WedgeError, fmtShape, tensor } from '@wedge/core';

/** q · k for two 1-D tensors, as a 0-d tensor (torch.dot). */
function dot(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1 || a.shape[0] !== b.shape[0]) {
    throw new WedgeError(`gramScore: needs three 1-D vectors of one length, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return a.matmul(b); // []
}

/**
 * −det G for the Gram matrix G of (q, k, r), written as the seed writes it:
 *   det G = qq·kk·rr + 2·qk·kr·qr − qq·kr² − kk·qr² − rr·qk²
 * det G is the squared volume of the parallelepiped spanned by q, k, r: 0 when k lies in the
 * plane of q and r, large when k sticks out of it. The score is its negative, in q's dtype.
 * @example gramScore(tensor([1, 0, 0, 0]), tensor([0, 0, 5, 0]), tensor([0, 1, 0, 0])).item() // −25
 */
export function gramScore(q: Tensor, k: Tensor, r: Tensor): Tensor {
  const qq = dot(q, q), kk = dot(k, k), rr = dot(r, r); // [] each
  const qk = dot(q, k), qr = dot(q, r), kr = dot(k, r); // [] each
  const det = qq.mul(kk).mul(rr)
    .add(qk.mul(2).mul(kr).mul(qr)) // NOTE: the seed's order, 2·qk·kr·qr, for the same float32 rounding
    .sub(qq.mul(kr.pow(2)))
    .sub(kk.mul(qr.pow(2)))
    .sub(rr.mul(qk.pow(2))); // []
  return det.neg();
}

/**
 * One row of the resilience table. `magnitude` is 'ref' for the true match.
 * @example
 * for (const row of resilienceTable()) console.log(row);
 */
export interface ResilienceRow {
  magnitude: number | 'ref';
  /** q · k: the standard attention's (unscaled) score. */
  dot: number;
  /** −det G(q, k, r): the triple-product attention's (unscaled) score. */
  gram: number;
}

/** The loud-key magnitudes the seed tries. @example RESILIENCE_MAGNITUDES // [1, 5, 10, 50, 100] */
export const RESILIENCE_MAGNITUDES = [1, 5, 10, 50, 100] as const;

/**
 * The seed's table: q = e₀ and r = e₁ span the "concept plane"; the true match k = (q + r)/‖q + r‖
 * lies in it (dot 0.7071, gram −0), and each loud mismatch k = m·e₂ + 0.1·q sticks out of it by m
 * (dot stays 0.1 whatever m is, gram falls as −m²).
 * @example resilienceTable()[2] // { magnitude: 5, dot: 0.1000000015, gram: −25 }
 */
export function resilienceTable(): ResilienceRow[] {
  const q = tensor([1, 0, 0, 0]); // [4]
  const r = tensor([0, 1, 0, 0]); // [4]
  const qr = q.add(r); //            [4]
  const kMatch = qr.div(qr.mul(qr).sum().sqrt()); // [4]  (q + r)/‖q + r‖
  const rows: ResilienceRow[] = [{ magnitude: 'ref', dot: dot(q, kMatch).item(), gram: gramScore(q, kMatch, r).item() }];
  const kNoiseDir = tensor([0, 0, 1, 0]); // [4]
  for (const m of RESILIENCE_MAGNITUDES) {
    const kLeak = kNoiseDir.mul(m).add(q.mul(0.1)); // [4]
    rows.push({ magnitude: m, dot: dot(q, kLeak).item(), gram: gramScore(q, kLeak, r).item() });
  }
  return rows;
}

/**
 * The table as the seed prints it (4 decimals; −0 keeps its sign, as Python prints it).
 * @example console.log(formatResilienceTable(resilienceTable()))
 */
export function formatResilienceTable(rows: readonly ResilienceRow[]): string {
  const fmt = (x: number): string => (x < 0 || Object.is(x, -0) ? '-' : '') + Math.abs(x).toFixed(4);
  const line = '-'.repeat(60);
  const out = [`${'Mag(K)'.padEnd(10)} | ${'Dot(Q,K)'.padEnd(12)} | ${'Gram(Q,K,R)'.padEnd(15)} | Result`, line];
  for (const row of rows) {
    const mag = row.magnitude === 'ref' ? '1.0 (Ref)' : row.magnitude.toFixed(1);
    out.push(`${mag.padEnd(10)} | ${fmt(row.dot).padEnd(12)} | ${fmt(row.gram).padEnd(15)} | ${row.magnitude === 'ref' ? 'True Match' : 'Loud Mismatch'}`);
    if (row.magnitude === 'ref') out.push(line);
  }
  return out.join('\n');
}
