// Parity of the GPU reductions (sum, mean, max, min over any dims) and softmax / log-softmax over
// any dim with the CPU backend, forward and gradient, on strided layouts and masked (−∞) rows.
import { describe, it, beforeAll } from 'vitest';
import fc from 'fast-check';
import { tensor, ones, triu, sizeOf } from '@wedge/core';
import { axes, axis } from '@wedge/core/testing';
import { MODES, activate, check, dimArb, expectBoundedParity, expectParity, layoutArb, makeInput, type Tolerance } from './harness.ts';

const shapeArb = fc.array(dimArb, { minLength: 1, maxLength: 4 }).filter((s) => sizeOf(s) <= 6000);
/** Number of elements each output of a reduction over `dims` sums (all dims when undefined). */
function reducedSize(s: readonly number[], dims: number | number[] | undefined): number {
  const list = dims === undefined ? s.map((_, d) => d) : typeof dims === 'number' ? [dims] : dims;
  return list.reduce((n, d) => n * s[d < 0 ? d + s.length : d], 1);
}

const EXACT: Tolerance = { rtol: 0, atol: 0 };
/** exp/log inside softmax, then sums over the row in the gradient: see docs/gpu.md. */
const SOFTMAX: Tolerance = { rtol: 2e-5, atol: 2e-6 };
const SOFTMAX_GRAD: Tolerance = { rtol: 1e-4, atol: 1e-5 };

for (const { mode, skip } of MODES) {
  const numRuns = mode === 'cpu' ? 12 : 4;

  describe.skipIf(skip)(`gpu reductions and softmax match the CPU backend (${mode})`, () => {
    beforeAll(() => activate(mode));

    it('sum and mean over any dims, keepdim or not, any layout: within the float32 summation bound', () => {
      const cases = shapeArb.chain((s) => fc.tuple(fc.constant(s), axes(s.length), fc.boolean(), layoutArb, fc.nat()));
      check(
        fc.property(cases, ([s, dims, keepdim, layout, seed]) => {
          const x = makeInput(s, layout, seed);
          const reduced = reducedSize(s, dims);
          const label = `${JSON.stringify(s)} ${layout} dims ${JSON.stringify(dims)} keepdim ${keepdim}`;
          expectBoundedParity(`sum ${label}`, [x], (t) => t.sum(dims, keepdim), reduced);
          expectBoundedParity(`mean ${label}`, [x], (t) => t.mean(dims, keepdim), reduced + 1);
        }),
        numRuns,
      );
    });

    it('max and min over any dims: exact values, gradient to the extreme element', () => {
      const cases = shapeArb.chain((s) => fc.tuple(fc.constant(s), axes(s.length), fc.boolean(), layoutArb, fc.nat()));
      check(
        fc.property(cases, ([s, dims, keepdim, layout, seed]) => {
          const x = makeInput(s, layout, seed);
          const label = `${JSON.stringify(s)} ${layout} dims ${JSON.stringify(dims)}`;
          expectParity(`max ${label}`, [x], (t) => t.max(dims, keepdim), EXACT, { grads: true });
          expectParity(`min ${label}`, [x], (t) => t.min(dims, keepdim), EXACT, { grads: true });
        }),
        numRuns,
      );
    });

    it('max splits the gradient between ties and lets NaN win, as the CPU does', () => {
      const x = tensor([[1, 3, 3, 0], [2, NaN, 5, 1], [-1, -1, -1, -1]]);
      expectParity('max with ties and NaN', [x], (t) => t.max(-1), EXACT);
      expectParity('min with ties and NaN', [x], (t) => t.min(0), EXACT);
      const y = tensor([[1, 3, 3, 0], [-1, -1, -1, -1]]);
      expectParity('max ties gradient', [y], (t) => t.max(-1), EXACT, { grads: true });
    });

    for (const op of ['softmax', 'logSoftmax'] as const) {
      it(`${op} over any dim and layout, forward and gradient`, () => {
        const cases = shapeArb.chain((s) => fc.tuple(fc.constant(s), axis(s.length), layoutArb, fc.nat()));
        check(
          fc.property(cases, ([s, dim, layout, seed]) => {
            const x = makeInput(s, layout, seed, { min: -6, max: 6 });
            expectParity(`${op} ${JSON.stringify(s)} ${layout} dim ${dim}`, [x], (t) => t[op](dim), SOFTMAX, {
              grads: true,
              gradTol: SOFTMAX_GRAD,
            });
          }),
          numRuns,
        );
      });

      it(`${op} of causally masked scores: −∞ entries give 0 (or −∞), an all −∞ row gives NaN`, () => {
        const T = 17;
        const scores = makeInput([2, T, T], 'contiguous', 5, { min: -4, max: 4 });
        const causal = triu(ones([T, T]), 1).gt(0); // true where j > i
        expectParity(`${op} causal`, [scores, causal], (s, m) => s.maskedFill(m, -Infinity)[op](-1), SOFTMAX, {
          grads: true,
          gradTol: SOFTMAX_GRAD,
        });
        const dead = tensor([[-Infinity, -Infinity, -Infinity], [0, -Infinity, 1]]);
        expectParity(`${op} of an all −∞ row`, [dead], (t) => t[op](-1), SOFTMAX);
      });
    }

    it('softmax past the texture-packing boundaries: rows of 4097 and a [65, 65] column softmax', () => {
      expectParity('softmax [3, 4097]', [makeInput([3, 4097], 'contiguous', 1, { min: -6, max: 6 })], (t) => t.softmax(-1), SOFTMAX, {
        grads: true,
        gradTol: SOFTMAX_GRAD,
      });
      expectParity('logSoftmax [65, 65] dim 0', [makeInput([65, 65], 'transposed', 2)], (t) => t.logSoftmax(0), SOFTMAX, {
        grads: true,
        gradTol: SOFTMAX_GRAD,
      });
    });
  });
}
