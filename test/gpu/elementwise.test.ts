// Parity of the GPU elementwise kernels with the CPU backend: every unary and binary op, where,
// cast and contiguous, forward and gradient, on broadcast shapes and strided layouts.
import { describe, expect, it, beforeAll } from 'vitest';
import fc from 'fast-check';
import { Tensor, where, cast, sign, tensor, sizeOf, broadcastShapes, UNARY_OPS, BINARY_OPS, COMPARISON_OPS } from '@wedge/core';
import { shape as shapeArb, broadcastableTo } from '@wedge/core/testing';
import { MODES, activate, check, expectParity, layoutArb, makeInput, dimArb, type Tolerance, type ValueRange } from './harness.ts';

/** Shapes of rank 0–4 over texture-packing sizes, at most 6000 elements (to keep each run fast). */
const fullShape = fc.array(dimArb, { minLength: 0, maxLength: 4 }).filter((s) => sizeOf(s) <= 6000);
/** The tolerance each op is held to, in float32: see docs/gpu.md. */
const EXACT: Tolerance = { rtol: 0, atol: 0 };
const ARITH: Tolerance = { rtol: 4e-7, atol: 0 };
const TRANSCENDENTAL: Tolerance = { rtol: 2e-5, atol: 2e-6 };
/** Gradients of broadcast inputs are sums over the broadcast dims (up to 6000 float32 terms here). */
const GRAD: Tolerance = { rtol: 1e-4, atol: 2e-5 };

const UNARY: { name: string; f: (x: Tensor) => Tensor; range: ValueRange; tol: Tolerance }[] = [
  { name: 'neg', f: (x) => x.neg(), range: {}, tol: EXACT },
  { name: 'abs', f: (x) => x.abs(), range: {}, tol: EXACT },
  { name: 'relu', f: (x) => x.relu(), range: {}, tol: EXACT },
  { name: 'sign', f: (x) => sign(x), range: {}, tol: EXACT },
  { name: 'exp', f: (x) => x.exp(), range: { min: -4, max: 4 }, tol: TRANSCENDENTAL },
  { name: 'log', f: (x) => x.log(), range: { min: 0.05, max: 4 }, tol: TRANSCENDENTAL },
  { name: 'sqrt', f: (x) => x.sqrt(), range: { min: 0.05, max: 4 }, tol: TRANSCENDENTAL },
  { name: 'tanh', f: (x) => x.tanh(), range: { min: -4, max: 4 }, tol: TRANSCENDENTAL },
  { name: 'sigmoid', f: (x) => x.sigmoid(), range: { min: -6, max: 6 }, tol: TRANSCENDENTAL },
  { name: 'sin', f: (x) => x.sin(), range: { min: -4, max: 4 }, tol: TRANSCENDENTAL },
  { name: 'cos', f: (x) => x.cos(), range: { min: -4, max: 4 }, tol: TRANSCENDENTAL },
  { name: 'square', f: (x) => x.square(), range: {}, tol: ARITH },
];

const BINARY: { name: string; f: (a: Tensor, b: Tensor) => Tensor; ranges: [ValueRange, ValueRange]; tol: Tolerance; grads: boolean }[] = [
  { name: 'add', f: (a, b) => a.add(b), ranges: [{}, {}], tol: ARITH, grads: true },
  { name: 'sub', f: (a, b) => a.sub(b), ranges: [{}, {}], tol: ARITH, grads: true },
  { name: 'mul', f: (a, b) => a.mul(b), ranges: [{}, {}], tol: ARITH, grads: true },
  { name: 'div', f: (a, b) => a.div(b), ranges: [{}, { min: 0.5, max: 3 }], tol: ARITH, grads: true },
  { name: 'pow', f: (a, b) => a.pow(b), ranges: [{ min: 0.2, max: 2 }, { min: -2, max: 2 }], tol: TRANSCENDENTAL, grads: true },
  { name: 'maximum', f: (a, b) => a.maximum(b), ranges: [{}, {}], tol: EXACT, grads: true },
  { name: 'minimum', f: (a, b) => a.minimum(b), ranges: [{}, {}], tol: EXACT, grads: true },
  { name: 'eq', f: (a, b) => a.eq(b), ranges: [{ min: 0, max: 2, }, { min: 0, max: 2 }], tol: EXACT, grads: false },
  { name: 'ne', f: (a, b) => a.ne(b), ranges: [{}, {}], tol: EXACT, grads: false },
  { name: 'lt', f: (a, b) => a.lt(b), ranges: [{}, {}], tol: EXACT, grads: false },
  { name: 'le', f: (a, b) => a.le(b), ranges: [{}, {}], tol: EXACT, grads: false },
  { name: 'gt', f: (a, b) => a.gt(b), ranges: [{}, {}], tol: EXACT, grads: false },
  { name: 'ge', f: (a, b) => a.ge(b), ranges: [{}, {}], tol: EXACT, grads: false },
];

describe('the parity cases cover the op table', () => {
  it('every unary, binary and comparison op of @wedge/core has a case here', () => {
    const have = new Set([...UNARY, ...BINARY].map((c) => c.name));
    expect([...UNARY_OPS, ...BINARY_OPS, ...COMPARISON_OPS].filter((op) => !have.has(op))).toEqual([]);
  });
});

for (const { mode, skip } of MODES) {
  // headless GL compiles a shader per op and layout (~0.1 s each on Mesa): fewer runs there
  const numRuns = mode === 'cpu' ? 10 : 3;

  describe.skipIf(skip)(`gpu elementwise kernels match the CPU backend (${mode})`, () => {
    beforeAll(() => activate(mode));

    for (const { name, f, range, tol } of UNARY) {
      it(`${name}: forward and gradient on any shape and layout`, () => {
        check(
          fc.property(fullShape, layoutArb, fc.nat(), (s, layout, seed) => {
            expectParity(`${name} ${JSON.stringify(s)} ${layout}`, [makeInput(s, layout, seed, range)], f, tol, { grads: true, gradTol: GRAD });
          }),
          numRuns,
        );
      });
    }

    for (const { name, f, ranges, tol, grads } of BINARY) {
      it(`${name}: forward${grads ? ' and gradients' : ''} with broadcasting and strided operands`, () => {
        const operands = fullShape.chain((full) => fc.tuple(broadcastableTo(full), broadcastableTo(full)));
        check(
          fc.property(operands, layoutArb, layoutArb, fc.nat(), ([sa, sb], la, lb, seed) => {
            const a = makeInput(sa, la, seed, ranges[0]);
            const b = makeInput(sb, lb, seed + 1, ranges[1]);
            expectParity(`${name} ${JSON.stringify(sa)} ${la} vs ${JSON.stringify(sb)} ${lb}`, [a, b], f, tol, { grads, gradTol: GRAD });
          }),
          numRuns,
        );
      });
    }

    it('eq and ne see exact ties (equal values from two layouts)', () => {
      const a = tensor([[1, 2, 3], [4, 5, 6]]);
      const b = tensor([[1, 5], [0, 6], [3, 6]]).transpose(0, 1); // [[1, 0, 3], [5, 6, 6]]
      expectParity('eq ties', [a, b], (x, y) => x.eq(y), EXACT);
      expectParity('ne ties', [a, b], (x, y) => x.ne(y), EXACT);
    });

    it('pow with a scalar integer exponent keeps the sign of a negative base, as the CPU does', () => {
      for (const e of [2, 3, -1, 0, 0.5]) {
        const x = makeInput([5, 7], 'contiguous', 3, { min: -3, max: 3 });
        expectParity(`pow(x, ${e})`, [x], (t) => t.pow(e), TRANSCENDENTAL, { grads: e !== 0.5, gradTol: GRAD });
      }
    });

    it('where and maskedFill: bool condition, broadcast operands, gradients to the picked side', () => {
      const shapes = fullShape.chain((full) => fc.tuple(broadcastableTo(full), broadcastableTo(full), broadcastableTo(full)));
      check(
        fc.property(shapes, layoutArb, fc.nat(), ([sc, sa, sb], layout, seed) => {
          const c = makeInput(sc, layout, seed, { dtype: 'bool' });
          const a = makeInput(sa, 'contiguous', seed + 1);
          const b = makeInput(sb, layout, seed + 2);
          expectParity(`where ${JSON.stringify([sc, sa, sb])} ${layout}`, [c, a, b], (cc, aa, bb) => where(cc, aa, bb), EXACT, { grads: true, gradTol: GRAD });
          const full = broadcastShapes('test', sc, sa);
          const x = makeInput(full, layout, seed + 3);
          expectParity(`maskedFill ${JSON.stringify(full)}`, [x, c], (xx, m) => xx.maskedFill(m, -Infinity), EXACT);
        }),
        numRuns,
      );
    });

    it('cast between float32 and bool; contiguous() copies any layout', () => {
      check(
        fc.property(fullShape, layoutArb, fc.nat(), (s, layout, seed) => {
          const x = makeInput(s, layout, seed, { min: -1, max: 1 });
          expectParity(`cast bool ${JSON.stringify(s)} ${layout}`, [x.relu()], (t) => cast(t, 'bool'), EXACT);
          expectParity(`cast float ${JSON.stringify(s)} ${layout}`, [x.gt(0)], (t) => cast(t, 'float32'), EXACT);
          // contiguous() of a contiguous tensor returns it as is: no kernel runs then
          expectParity(`contiguous ${JSON.stringify(s)} ${layout}`, [x], (t) => t.contiguous(), EXACT, { grads: true, onGpu: !x.isContiguous() });
        }),
        numRuns,
      );
    });

    it('NaN and ±∞ propagate as on the CPU (relu, sign, maximum, exp, pow)', () => {
      const x = tensor([NaN, Infinity, -Infinity, 0, -0.5, 2]);
      const y = tensor([1, NaN, 3, -Infinity, NaN, 2]);
      for (const [label, f, tol] of [
        ['relu', (a: Tensor) => a.relu(), EXACT],
        ['sign', (a: Tensor) => sign(a), EXACT],
        ['abs', (a: Tensor) => a.abs(), EXACT],
        ['exp', (a: Tensor) => a.exp(), TRANSCENDENTAL],
      ] as const) {
        expectParity(`${label} of non-finite values`, [x], f, tol);
      }
      for (const [label, f, tol] of [
        ['maximum', (a: Tensor, b: Tensor) => a.maximum(b), EXACT],
        ['minimum', (a: Tensor, b: Tensor) => a.minimum(b), EXACT],
        ['add', (a: Tensor, b: Tensor) => a.add(b), EXACT],
        ['lt', (a: Tensor, b: Tensor) => a.lt(b), EXACT],
        ['pow', (a: Tensor, b: Tensor) => a.abs().pow(b), TRANSCENDENTAL],
      ] as const) {
        expectParity(`${label} of non-finite values`, [x, y], f, tol);
      }
    });

    it('sizes past the texture-packing boundaries: [65, 65], [3, 4097] and [257, 300]', () => {
      for (const s of [[65, 65], [3, 4097], [257, 300]]) {
        const a = makeInput(s, 'sliced', 11);
        const b = makeInput([s[1]], 'contiguous', 12);
        expectParity(`add ${JSON.stringify(s)}`, [a, b], (x, y) => x.mul(y).add(x.exp()), TRANSCENDENTAL, { grads: true, gradTol: GRAD });
      }
    });
  });
}

// Shapes drawn by core's helper too, so GPU and CPU tests share their corner cases (rank 0, size 1).
describe('gpu elementwise kernels on core shape corner cases (cpu mode)', () => {
  beforeAll(() => activate('cpu'));
  it('add and exp over shape() draws, including 0-d tensors', () => {
    check(
      fc.property(shapeArb({ maxRank: 4 }), fc.nat(), (s, seed) => {
        const x = makeInput(s, 'contiguous', seed);
        expectParity(`exp/add ${JSON.stringify(s)}`, [x], (t) => t.exp().add(t), TRANSCENDENTAL, { grads: true, gradTol: GRAD });
      }),
      20,
    );
  });
});
