import { describe, expect, it } from 'vitest';
import { tensor } from '@wedge/core';
import { formatResilienceTable, gramScore, resilienceTable } from '@wedge/models';

describe('resilience analysis', () => {
  it('gives the numbers the seed prints (float32, as torch computes them)', () => {
    // /usr/bin/python3 -c 'import models_seed; print(models_seed.resilience_table())' (scripts/fixtures):
    // [('ref', 0.7071067690849304, -0.0), (1.0, 0.10000000149011612, -1.0), (5.0, …, -25.0), …]
    const rows = resilienceTable();
    expect(rows.map((r) => r.magnitude)).toEqual(['ref', 1, 5, 10, 50, 100]);
    expect(rows[0].dot).toBe(0.7071067690849304);
    expect(Object.is(rows[0].gram, -0)).toBe(true);
    for (const [i, m] of [1, 5, 10, 50, 100].entries()) {
      expect(rows[i + 1].dot).toBe(0.10000000149011612); // the 0.1 leak, whatever the magnitude
      expect(rows[i + 1].gram).toBe(-(m * m)); // the volume grows as m²
    }
  });

  it('prints the table as the seed does', () => {
    expect(formatResilienceTable(resilienceTable())).toBe(
      [
        'Mag(K)     | Dot(Q,K)     | Gram(Q,K,R)     | Result',
        '-'.repeat(60),
        '1.0 (Ref)  | 0.7071       | -0.0000         | True Match',
        '-'.repeat(60),
        '1.0        | 0.1000       | -1.0000         | Loud Mismatch',
        '5.0        | 0.1000       | -25.0000        | Loud Mismatch',
        '10.0       | 0.1000       | -100.0000       | Loud Mismatch',
        '50.0       | 0.1000       | -2500.0000      | Loud Mismatch',
        '100.0      | 0.1000       | -10000.0000     | Loud Mismatch',
      ].join('\n'),
    );
  });

  it('scores k in the plane of q and r at 0, and k out of it by −(volume)²', () => {
    const q = tensor([1, 0, 0]);
    const r = tensor([0, 1, 0]);
    expect(gramScore(q, tensor([3, -2, 0]), r).item()).toBeCloseTo(0, 6);
    expect(gramScore(q, tensor([0, 0, 2]), r).item()).toBe(-4);
    expect(() => gramScore(q, tensor([1, 2]), r)).toThrow('gramScore: needs three 1-D vectors of one length, got [3] and [2]');
  });
});
