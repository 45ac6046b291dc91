// The wasm kernels against the JS reference, property by property: elementwise ops, copies and reductions
// must agree bit for bit (they are the same IEEE operations in the same order); shapes cover SIMD
// tails, size-1 and broadcast dims, transposed, sliced and expanded operands, on the JS heap or
// already in wasm memory.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type DType, type Tensor, WedgeError, add, div, getBackend, logKernels, maximum, minimum, mul, neg, abs, sqrt, relu, sub,
  runKernel, sum, tensor, wasmSimdSupported,
} from '@wedge/core';
import { f32x4, i32 } from '../../packages/core/src/backend/wasm/asm.ts';
import { buildKernelModule } from '../../packages/core/src/backend/wasm/codegen.ts';
import { check, expectSameBits, isWasm, layoutArb, makeInput, on } from './harness.ts';

const dims = fc.array(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 17), { minLength: 1, maxLength: 4 });
const dtypeArb = fc.constantFrom<DType>('float32', 'float64');

const BINARY: Record<string, (a: Tensor, b: Tensor) => Tensor> = { add, sub, mul, div, maximum, minimum };
const UNARY: Record<string, (x: Tensor) => Tensor> = { neg, abs, sqrt, relu };

/** Which backend ran each kernel of `fn`. */
function backendsOf(fn: () => unknown): Set<string> {
  const seen = new Set<string>();
  logKernels((_k, b) => seen.add(b));
  try {
    fn();
  } finally {
    logKernels(null);
  }
  return seen;
}

describe.skipIf(!wasmSimdSupported())('wasm elementwise kernels equal the JS reference bit for bit', () => {
  it('binary ops with broadcasting and strided operands, float32 and float64', () => {
    const cases = fc.record({ shape: dims, op: fc.constantFrom(...Object.keys(BINARY)), la: layoutArb, lb: layoutArb, dtype: dtypeArb,
      bcast: fc.nat({ max: 3 }), resident: fc.boolean(), seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, op, la, lb, dtype, bcast, resident, seed }) => {
        const bShape = shape.map((d, i) => ((bcast >> (i % 2)) & 1 ? 1 : d)); // some dims broadcast
        const a = makeInput(shape, la, seed, dtype, resident);
        const b = makeInput(bShape, lb, seed + 1, dtype, resident);
        const got = on('wasm', () => BINARY[op](a, b));
        const want = on('cpu', () => BINARY[op](a, b));
        expect(isWasm(got), `${op} ran on wasm`).toBe(true);
        expectSameBits(`${op} ${dtype} ${la} [${shape}] ∘ ${lb} [${bShape}]`, got.data(), want.data());
      }),
      60,
    );
  });

  it('comparisons (eq ne lt le gt ge) into bool, float32 / float64 / int32, with NaN, ±0, ties and broadcasting', () => {
    const cases = fc.record({ shape: dims, op: fc.constantFrom('eq', 'ne', 'lt', 'le', 'gt', 'ge'), la: layoutArb, lb: layoutArb,
      dtype: fc.constantFrom<DType>('float32', 'float64', 'int32'), bcast: fc.nat({ max: 3 }), seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, op, la, lb, dtype, bcast, seed }) => {
        const bShape = shape.map((d, i) => ((bcast >> (i % 2)) & 1 ? 1 : d));
        // values on a coarse grid (ties), then NaN and −0 in float
        const grid = (t: Tensor): Tensor => on('cpu', () => t.mul(2).to('int32').to(dtype === 'int32' ? 'int32' : dtype));
        let a = grid(makeInput(shape, la, seed, dtype === 'int32' ? 'float32' : dtype));
        const b = grid(makeInput(bShape, lb, seed + 1, dtype === 'int32' ? 'float32' : dtype));
        if (dtype !== 'int32') a = on('cpu', () => a.maskedFill(a.gt(1), NaN).maskedFill(a.eq(0), -0));
        const f = (): Tensor => (a as any)[op](b);
        const got = on('wasm', f);
        expect(isWasm(got), `${op} ran on wasm`).toBe(true);
        expect(got.dtype).toBe('bool');
        expectSameBits(`${op} ${dtype} [${shape}] vs [${bShape}]`, got.data(), on('cpu', f).data());
      }),
      80,
    );
  });

  it('where with a broadcast bool condition (maskedFill), float32 and float64', () => {
    const cases = fc.record({ shape: dims, la: layoutArb, dtype: dtypeArb, seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, la, dtype, seed }) => {
        const a = makeInput(shape, la, seed, dtype);
        const mask = makeInput([1, ...shape.slice(1)], 'contiguous', seed + 1).gt(0); //   broadcast over dim 0
        const f = (): Tensor => a.maskedFill(mask, -Infinity);
        const got = on('wasm', f);
        expect(isWasm(got)).toBe(true);
        expectSameBits(`maskedFill ${dtype} ${la} [${shape}]`, got.data(), on('cpu', f).data());
      }),
      40,
    );
  });

  it('maximum and minimum propagate NaN and break ties as the reference does (−0 vs +0)', () => {
    const vals = [NaN, -0, 0, 1, -1, Infinity, -Infinity, 2.5];
    for (const dtype of ['float32', 'float64'] as const) {
      const a = tensor(vals.flatMap((x) => vals.map(() => x)), { dtype });
      const b = tensor(vals.flatMap(() => vals), { dtype });
      for (const op of ['maximum', 'minimum', 'add', 'div']) {
        expectSameBits(`${op} ${dtype}`, on('wasm', () => BINARY[op](a, b)).data(), on('cpu', () => BINARY[op](a, b)).data());
      }
    }
  });

  it('unary ops and contiguous copies (float32, float64, int32, bool)', () => {
    const cases = fc.record({ shape: dims, op: fc.constantFrom(...Object.keys(UNARY), 'contiguous'), layout: layoutArb,
      dtype: fc.constantFrom<DType>('float32', 'float64', 'int32', 'bool'), seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, op, layout, dtype, seed }) => {
        const x0 = makeInput(shape, layout, seed, dtype === 'int32' || dtype === 'bool' ? 'float32' : dtype);
        // bool: every other element of a wider mask (stride 2), transposed too for that layout
        const wide = [...shape.slice(0, -1), 2 * shape[shape.length - 1]];
        const mask = (): Tensor => {
          const b = on('cpu', () => makeInput(wide, 'contiguous', seed).gt(0)).slice(-1, 0, undefined, 2);
          return layout === 'transposed' && b.ndim >= 2 ? b.transpose(-2, -1) : b;
        };
        const x = dtype === 'int32' ? on('cpu', () => x0.mul(1000).int()) : dtype === 'bool' ? mask() : x0;
        if ((dtype === 'int32' || dtype === 'bool') && op !== 'contiguous') return;
        const f = (): Tensor => (op === 'contiguous' ? x.contiguous() : UNARY[op](x));
        const got = on('wasm', f);
        const want = on('cpu', f);
        if (op !== 'contiguous' || !x.isContiguous()) expect(isWasm(got), `${op} ran on wasm`).toBe(true);
        expectSameBits(`${op} ${dtype} ${layout} [${shape}]`, got.data(), want.data());
      }),
      60,
    );
  });

  it('sum over any set of dims, float64 sums in the reference order', () => {
    const cases = fc.record({ shape: dims, layout: layoutArb, dtype: dtypeArb, mask: fc.nat({ max: 15 }), seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, layout, dtype, mask, seed }) => {
        const x = makeInput(shape, layout, seed, dtype);
        const over = shape.map((_, i) => i).filter((i) => (mask >> i) & 1);
        const f = (): Tensor => (over.length ? sum(x, over) : sum(x));
        expectSameBits(`sum ${dtype} ${layout} [${shape}] over [${over}]`, on('wasm', f).data(), on('cpu', f).data());
      }),
      60,
    );
  });

  it('max / min over any set of dims, argmax / argmin along one dim or flattened, with ties, NaN and ±∞', () => {
    const cases = fc.record({ shape: dims, layout: layoutArb, dtype: dtypeArb, mask: fc.nat({ max: 15 }), dim: fc.nat(), special: fc.nat({ max: 3 }), seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, layout, dtype, mask, dim, special, seed }) => {
        // rounded values give ties; special: some NaN, −∞, +∞ (or none)
        let x = makeInput(shape, layout, seed, dtype).mul(2).to('int32').to(dtype);
        const spots = makeInput(shape, layout, seed + 1, dtype).gt(1.2);
        if (special > 0) x = x.maskedFill(spots, [NaN, -Infinity, Infinity][special - 1]);
        const over = shape.map((_, i) => i).filter((i) => (mask >> i) & 1);
        const d = dim % shape.length;
        const fs: Record<string, () => Tensor> = {
          max: () => (over.length ? x.max(over) : x.max()), min: () => (over.length ? x.min(over) : x.min()),
          argmax: () => x.argmax(d), argmin: () => x.argmin(d), argmaxAll: () => x.argmax(),
        };
        for (const [name, f] of Object.entries(fs)) {
          const got = on('wasm', f);
          expect(isWasm(got), `${name} ran on wasm`).toBe(true);
          expectSameBits(`${name} ${dtype} ${layout} [${shape}] over [${over}] / dim ${d}`, got.data(), on('cpu', f).data());
        }
      }),
      80,
    );
  });

  it('sliceScatter (the gradient of a stepped slice) writes zeros and the values, as the reference does', () => {
    const cases = fc.record({ shape: dims, layout: layoutArb, dtype: dtypeArb, dimSeed: fc.nat(), start: fc.nat({ max: 2 }), step: fc.constantFrom(1, 2, 3), seed: fc.nat() });
    check(
      fc.property(cases, ({ shape, layout, dtype, dimSeed, start, step, seed }) => {
        const dim = dimSeed % shape.length;
        const full: number[] = [...shape];
        full[dim] = start + (shape[dim] - 1) * step + 1 + (seed % 2); // room for start::step, sometimes one more
        const src = makeInput(shape, layout, seed, dtype);
        const f = (): Tensor => runKernel('sliceScatter', [src], { shape: full, dim, start, step });
        const got = on('wasm', f);
        expect(isWasm(got)).toBe(true);
        expectSameBits(`sliceScatter ${dtype} [${shape}] into [${full}] dim ${dim} ${start}::${step}`, got.data(), on('cpu', f).data());
      }),
      40,
    );
  });

  it('hands what it lacks down the chain to the JS reference: float64 exp, sin, int32 arithmetic, float64 matmul', () => {
    const x = makeInput([3, 4], 'contiguous', 1);
    expect(backendsOf(() => on('wasm', () => x.double().exp()))).toEqual(new Set(['cpu']));
    expect(backendsOf(() => on('wasm', () => x.sin()))).toEqual(new Set(['cpu']));
    expect(backendsOf(() => on('wasm', () => x.exp()))).toEqual(new Set(['wasm']));
    expect(backendsOf(() => on('wasm', () => x.int().add(1)))).toEqual(new Set(['cpu']));
    expect(backendsOf(() => on('wasm', () => x.double().matmul(x.double().mT)))).toEqual(new Set(['cpu']));
    expect(backendsOf(() => on('wasm', () => x.add(x)))).toEqual(new Set(['wasm']));
    expect(getBackend().name).toBe(process.env.WEDGE_BACKEND ?? 'wasm');
  });
});

describe.skipIf(!wasmSimdSupported())('the wasm encoder', () => {
  it('checks operand types when a kernel is emitted, naming the instruction', () => {
    expect(() => f32x4.add(i32.const(1), f32x4.splat(i32.const(2) as never))).toThrow(WedgeError);
    expect(() => f32x4.add(i32.const(1), i32.const(2))).toThrow('wasm emit: f32x4.add needs (v128, v128), got (i32, i32)');
  });

  it('emits a module that validates, and prints each kernel with the comment saying what it computes', () => {
    const m = buildKernelModule(true);
    expect(WebAssembly.validate(m.encode())).toBe(true);
    const text = m.text();
    expect(text).toContain(';; C[M,N] = A[M,K]·B[K,N] per batch matrix');
    expect(text).toContain('(func $bin_add_float32');
    expect(text).toContain('f32x4.mul');
  });
});
