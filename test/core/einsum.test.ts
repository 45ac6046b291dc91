// einsum against the definition: random equations over one or two operands, checked with a
// brute-force sum over every assignment of the indices.
import { describe, expect, it } from 'vitest';
import fc, { type Arbitrary } from 'fast-check';
import { type Tensor, einsum, findGradMismatch } from '@wedge/core';
import { tensorOf } from '@wedge/core/testing';
import { assertClose } from '../helpers/assert_close.ts';

interface Problem {
  equation: string;
  operands: Tensor[];
  sizes: Record<string, number>;
  terms: string[];
  output: string;
}

const LETTERS = ['i', 'j', 'k', 'l'];

/** A random equation: each operand a permuted subset of the letters, the output a subset (or implicit). */
function problem(requiresGrad = false): Arbitrary<Problem> {
  const term = fc.shuffledSubarray(LETTERS, { minLength: 0, maxLength: 3 }).map((t) => t.join(''));
  return fc
    .record({
      terms: fc.array(term, { minLength: 1, maxLength: 2 }),
      sizes: fc.record(Object.fromEntries(LETTERS.map((c) => [c, fc.integer({ min: 1, max: 3 })])) as Record<string, Arbitrary<number>>),
      outputPick: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      outputOrder: fc.shuffledSubarray(LETTERS, { minLength: 4, maxLength: 4 }),
      implicit: fc.boolean(),
    })
    .chain(({ terms, sizes, outputPick, outputOrder, implicit }) => {
      const used = new Set(terms.join(''));
      const output = implicit
        ? [...used].filter((c) => terms.join('').split(c).length === 2).sort().join('')
        : outputOrder.filter((c, i) => used.has(c) && outputPick[i]).join('');
      const equation = implicit ? terms.join(',') : `${terms.join(',')}->${output}`;
      return fc
        .tuple(...terms.map((t) => tensorOf([...t].map((c) => sizes[c]), { min: -2, max: 2, requiresGrad })))
        .map((operands) => ({ equation, operands, sizes, terms, output }));
    });
}

/** out[output] = Σ over the other indices of Πₖ operandₖ[termₖ], by visiting every assignment. */
function bruteForce({ operands, sizes, terms, output }: Problem): number[] {
  const letters = [...new Set(terms.join(''))];
  const outSize = [...output].reduce((n, c) => n * sizes[c], 1);
  const out = new Array<number>(outSize).fill(0);
  const data = operands.map((t) => Array.from(t.data() as Float64Array));
  const at = (term: string, value: Record<string, number>): number => [...term].reduce((off, c) => off * sizes[c] + value[c], 0);
  const visit = (k: number, value: Record<string, number>): void => {
    if (k === letters.length) {
      out[at(output, value)] += terms.reduce((p, term, n) => p * data[n][at(term, value)], 1);
      return;
    }
    for (let v = 0; v < sizes[letters[k]]; v++) visit(k + 1, { ...value, [letters[k]]: v });
  };
  visit(0, {});
  return out;
}

describe('einsum', () => {
  it('matches the brute-force definition on random equations', () => {
    fc.assert(
      fc.property(problem(), (p) => {
        const got = einsum(p.equation, ...p.operands);
        expect(got.shape, p.equation).toEqual([...p.output].map((c) => p.sizes[c]));
        assertClose(got.reshape(-1), bruteForce(p), { rtol: 1e-12, atol: 1e-12, label: p.equation });
      }),
      { numRuns: 150, seed: 17 },
    );
  });

  it('has gradients that match finite differences on random equations', () => {
    fc.assert(
      fc.property(problem(true), (p) => {
        const mismatch = findGradMismatch((...xs) => einsum(p.equation, ...xs), p.operands);
        expect(mismatch, p.equation).toBeNull();
      }),
      { numRuns: 60, seed: 19 },
    );
  });

  it("'i,j->ij' is the outer product and 'ij->' the total", () => {
    const [a, b] = fc.sample(fc.tuple(tensorOf([3]), tensorOf([2])), { numRuns: 1, seed: 1 })[0];
    assertClose(
      einsum('i,j->ij', a, b),
      Array.from(a.data()).map((x) => Array.from(b.data()).map((y) => x * y)),
      { rtol: 0, atol: 0 },
    );
    expect(einsum('ij->', a.unsqueeze(1)).item()).toBeCloseTo(Array.from(a.data()).reduce((s, v) => s + v, 0), 12);
  });
});
