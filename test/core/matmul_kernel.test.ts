// The CPU matmul kernel against a naive triple loop: random shapes on both sides of the block sizes,
// transposed, sliced and broadcast operands, float64 to rounding, float32 to one ulp, int32 exactly.
// NOTE: these state the JS reference's contract (float64 sums, rounded once), so they run on the
// 'cpu' backend whichever backend the suite runs on; the wasm kernel's float32 sums have their own
// bound, tested in test/wasm/matmul.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, getBackend, matmul, randn, setBackend, tensor, zeros, type DType, type Tensor } from '@wedge/core';
// Internals under test (imported after @wedge/core, which loads the backend in its own order).
import {
  gemmBlocked, gemmReference, useBlocked, type StridedMatrix,
} from '../../packages/core/src/backend/cpu/matmul.ts';
import { hasTorch, PYTHON, TORCH_MISSING } from '../helpers/torch.ts';

const suiteBackend = getBackend().name;
beforeAll(() => setBackend('cpu'));
afterAll(() => setBackend(suiteBackend));

/** How an operand [..., R, C] is laid out in memory before matmul reads it. */
type Layout = 'contiguous' | 'transposed' | 'sliced';

/** A float operand of logical shape `shape`, stored per `layout` (never contiguous unless asked). */
function floatOperand(shape: number[], layout: Layout, dtype: DType, generator: Generator): Tensor {
  const lead = shape.slice(0, -2);
  const [r, c] = shape.slice(-2);
  if (layout === 'transposed') return randn([...lead, c, r], { generator, dtype }).transpose(-2, -1);
  if (layout === 'sliced') return randn([...lead, r, 2 * c + 1], { generator, dtype }).slice(-1, 1, 2 * c + 1, 2);
  return randn(shape, { generator, dtype });
}

/** Full-range int32 values (products overflow, so only wrapping arithmetic gets them right). */
function intOperand(shape: number[], layout: Layout, generator: Generator): Tensor {
  const lead = shape.slice(0, -2);
  const [r, c] = shape.slice(-2);
  const stored = layout === 'transposed' ? [...lead, c, r] : layout === 'sliced' ? [...lead, r, 2 * c + 1] : shape;
  const data = Int32Array.from({ length: stored.reduce((x, y) => x * y, 1) }, () => generator.nextUint32() | 0);
  const t = tensor(data, { shape: stored, dtype: 'int32' });
  if (layout === 'transposed') return t.transpose(-2, -1);
  if (layout === 'sliced') return t.slice(-1, 1, 2 * c + 1, 2);
  return t;
}

interface Naive {
  /** Σₖ a·b per output element, float64 in k order (or BigInt mod 2³² for int32). */
  values: number[];
  /** Σₖ |a|·|b| per output element: the scale of float64 rounding error. */
  scale: number[];
}

/** The definition: out[p,i,j] = Σₖ a[p,i,k]·b[p,k,j], after broadcasting the batch dims. */
function naiveMatmul(a: Tensor, b: Tensor, batch: number[]): Naive {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.ndim - 1];
  const A = Array.from(a.expand([...batch, M, K]).data());
  const B = Array.from(b.expand([...batch, K, N]).data());
  const P = batch.reduce((x, y) => x * y, 1);
  const values: number[] = [];
  const scale: number[] = [];
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, s2 = 0, si = 0n;
        for (let k = 0; k < K; k++) {
          const x = A[(p * M + i) * K + k], y = B[(p * K + k) * N + j];
          if (a.dtype === 'int32') si += BigInt(x) * BigInt(y);
          else { s += x * y; s2 += Math.abs(x * y); }
        }
        values.push(a.dtype === 'int32' ? Number(BigInt.asIntN(32, si)) : s);
        scale.push(s2);
      }
    }
  }
  return { values, scale };
}

/** Asserts `got` matches the naive product: int32 exactly, floats to rounding of a reordered sum. */
function expectMatchesNaive(got: Tensor, a: Tensor, b: Tensor, batch: number[], what: string): void {
  const { values, scale } = naiveMatmul(a, b, batch);
  const out = Array.from(got.data());
  expect(out.length, what).toBe(values.length);
  for (let e = 0; e < values.length; e++) {
    // float64: reordering a sum moves it by at most ~K·ε·Σ|a·b|; float32: one rounding of that sum.
    const tol = got.dtype === 'int32' ? 0
      : got.dtype === 'float32' ? 2 ** -24 * Math.abs(values[e]) + 1e-12 * scale[e]
      : 1e-13 * scale[e];
    if (!(Math.abs(out[e] - values[e]) <= tol)) {
      expect.fail(`${what}: element ${e} is ${out[e]}, naive loop gives ${values[e]} (tolerance ${tol})`);
    }
  }
}

/** Batch dims of a pair: each operand has each dim, a broadcast 1 in its place, or lacks it. */
const batchArb = fc.array(
  fc.record({ size: fc.integer({ min: 1, max: 3 }), a: fc.constantFrom('full', 'one', 'missing'), b: fc.constantFrom('full', 'one') }),
  { maxLength: 2 },
);
const layoutArb = fc.constantFrom<Layout>('contiguous', 'transposed', 'sliced');

/** Batch shapes of a and b, and the broadcast batch shape of the result. */
function batchShapes(dims: { size: number; a: string; b: string }[]): { a: number[]; b: number[]; out: number[] } {
  const first = dims.findIndex((d) => d.a !== 'missing'); // only leading dims can be missing
  const aSizes = dims.map((d, i) => (d.a === 'one' || (d.a === 'missing' && (first < 0 || i < first)) ? 1 : d.size));
  const b = dims.map((d) => (d.b === 'one' ? 1 : d.size));
  return { a: aSizes.slice(first < 0 ? dims.length : first), b, out: dims.map((_, i) => Math.max(aSizes[i], b[i])) };
}

describe('matmul kernel against a naive triple loop', () => {
  it('matches in float64 for random shapes, layouts and broadcast batch dims', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 37 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 37 }),
        batchArb, layoutArb, layoutArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (M, K, N, dims, la, lb, seed) => {
          const g = new Generator(seed);
          const bs = batchShapes(dims);
          const a = floatOperand([...bs.a, M, K], la, 'float64', g);
          const b = floatOperand([...bs.b, K, N], lb, 'float64', g);
          expectMatchesNaive(matmul(a, b), a, b, bs.out, `float64 ${la} [${a.shape}] @ ${lb} [${b.shape}]`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('matches in float32 to one rounding of the float64 sum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 40 }),
        batchArb, layoutArb, layoutArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (M, K, N, dims, la, lb, seed) => {
          const g = new Generator(seed);
          const bs = batchShapes(dims);
          const a = floatOperand([...bs.a, M, K], la, 'float32', g);
          const b = floatOperand([...bs.b, K, N], lb, 'float32', g);
          expectMatchesNaive(matmul(a, b), a, b, bs.out, `float32 ${la} [${a.shape}] @ ${lb} [${b.shape}]`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('matches exactly in int32, wrapping mod 2³² like PyTorch', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 12 }),
        batchArb, layoutArb, layoutArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (M, K, N, dims, la, lb, seed) => {
          const g = new Generator(seed);
          const bs = batchShapes(dims);
          const a = intOperand([...bs.a, M, K], la, g);
          const b = intOperand([...bs.b, K, N], lb, g);
          const out = matmul(a, b);
          expect(out.dtype).toBe('int32');
          expectMatchesNaive(out, a, b, bs.out, `int32 ${la} [${a.shape}] @ ${lb} [${b.shape}]`);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('wraps int32 products as PyTorch 1.13 does (hand-checked)', () => {
    // torch.tensor([[65536, 3], [2147483647, 1]], dtype=torch.int32) @ [[65536, 2], [5, 2147483647]]
    const a = tensor([[65536, 3], [2147483647, 1]], { dtype: 'int32' });
    const b = tensor([[65536, 2], [5, 2147483647]], { dtype: 'int32' });
    expect(matmul(a, b).toArray()).toEqual([[15, -2147352579], [-65531, 2147483645]]);
  });

  it('takes the blocked path on shapes that cross every block edge, and agrees there', () => {
    // M, N past a 4-tile edge and past MC = 64; K past KC = 256 (float32 then sums in a float64
    // scratch); N past NC = 256 (several B slabs).
    const shapes: [number, number, number][] = [[67, 259, 5], [5, 2, 517], [4, 300, 4], [63, 16, 63], [66, 1, 70]];
    const g = new Generator(7);
    for (const [M, K, N] of shapes) {
      expect(useBlocked('float32', M, K, N), `[${M}, ${K}] @ [${K}, ${N}] should be blocked`).toBe(true);
      for (const dtype of ['float32', 'float64'] as const) {
        for (const [la, lb] of [['contiguous', 'transposed'], ['transposed', 'contiguous'], ['sliced', 'sliced']] as const) {
          const a = floatOperand([M, K], la, dtype, g);
          const b = floatOperand([K, N], lb, dtype, g);
          expectMatchesNaive(matmul(a, b), a, b, [], `${dtype} ${la} [${M}, ${K}] @ ${lb} [${K}, ${N}]`);
        }
      }
    }
  });

  it('gives zeros for K = 0 and empty results for size-0 dims', () => {
    expect(matmul(zeros([3, 0]), zeros([0, 5])).toArray()).toEqual(Array.from({ length: 3 }, () => [0, 0, 0, 0, 0]));
    expect(Array.from(matmul(zeros([2, 40, 0]), zeros([2, 0, 40])).data()).every((v) => v === 0)).toBe(true);
    expect(matmul(zeros([0, 4, 6]), zeros([6, 7])).shape).toEqual([0, 4, 7]);
    expect(matmul(zeros([4, 6]), zeros([6, 0])).shape).toEqual([4, 0]);
    expect(matmul(zeros([0, 6]), zeros([6, 7])).shape).toEqual([0, 7]);
  });

  it('reads stride-0 rows and columns inside a matrix (expanded operands)', () => {
    const g = new Generator(3);
    const row = randn([1, 50], { generator: g, dtype: 'float64' }).expand([40, 50]); // every row the same
    const col = randn([50, 1], { generator: g, dtype: 'float64' }).expand([50, 30]); // every column the same
    expect(useBlocked('float64', 40, 50, 30)).toBe(true);
    expectMatchesNaive(matmul(row, col), row, col, [], 'expanded [40, 50] @ expanded [50, 30]');
  });
});

describe('gemmBlocked against gemmReference on raw strided matrices', () => {
  it('agrees for any strides, offsets and sizes, including below the blocked threshold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 30 }),
        fc.constantFrom('rowMajor', 'colMajor', 'padded', 'zeroRow'), fc.constantFrom('rowMajor', 'colMajor', 'padded', 'zeroRow'),
        fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (M, K, N, la, lb, offset, seed) => {
          const g = new Generator(seed);
          const matrix = (R: number, C: number, kind: string): StridedMatrix => {
            const [rowStride, colStride] = kind === 'rowMajor' ? [C, 1] : kind === 'colMajor' ? [1, R] : kind === 'padded' ? [2 * C + 3, 2] : [0, 1];
            const span = offset + (R - 1) * rowStride + (C - 1) * colStride + 1;
            const data = Float64Array.from({ length: Math.max(span, 0) }, () => g.nextNormal());
            return { data, offset, rowStride, colStride };
          };
          const a = matrix(M, K, la), b = matrix(K, N, lb);
          for (const Out of [Float32Array, Float64Array]) {
            const fast = new Out(M * N + 2), slow = new Out(M * N + 2);
            gemmBlocked(a, b, fast, 2, M, K, N);
            gemmReference(a, b, slow, 2, M, K, N);
            for (let e = 0; e < fast.length; e++) {
              const tol = 1e-12 * (1 + Math.abs(slow[e])) * Math.max(K, 1) + (Out === Float32Array ? 2 ** -23 * Math.abs(slow[e]) : 0);
              if (!(Math.abs(fast[e] - slow[e]) <= tol)) {
                expect.fail(`${Out.name} ${la} [${M}, ${K}] @ ${lb} [${K}, ${N}]: element ${e} is ${fast[e]} vs ${slow[e]}`);
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

// For each case file pair (stored a, b), multiplies the same views in float32 and float64, writes both.
const TORCH_MATMUL = `
import json, sys, numpy as np, torch
d = sys.argv[1]
for case in json.loads(sys.argv[2]):
    n, v, f = case['n'], case['v'], f"{d}/{case['n']}{case['v']}"
    A = torch.from_numpy(np.fromfile(f + '.a', dtype=np.float32)).view(n, n)
    B = torch.from_numpy(np.fromfile(f + '.b', dtype=np.float32)).view(n, n)
    a = A.t() if v == 'aTb' else A
    b = B.t() if v == 'abT' else B
    torch.matmul(a, b).contiguous().numpy().tofile(f + '.out32')
    torch.matmul(a.double(), b.double()).contiguous().numpy().tofile(f + '.out64')
`;

describe('matmul kernel against PyTorch (live, skipped without python3-torch)', () => {
  it('is within rtol 1e-5 of PyTorch float32 at 64..512, and closer to the float64 product', (ctx) => {
    if (!hasTorch()) ctx.skip(TORCH_MISSING);
    const dir = mkdtempSync(path.join(tmpdir(), 'wedge-matmul-'));
    try {
      const g = new Generator(11);
      const cases = [64, 128, 256, 512].flatMap((n) => ['ab', 'abT', 'aTb'].map((v) => ({ n, v })));
      const got = cases.map(({ n, v }) => {
        const A = randn([n, n], { generator: g }), B = randn([n, n], { generator: g });
        writeFileSync(path.join(dir, `${n}${v}.a`), A.data() as Float32Array);
        writeFileSync(path.join(dir, `${n}${v}.b`), B.data() as Float32Array);
        return matmul(v === 'aTb' ? A.transpose(0, 1) : A, v === 'abT' ? B.transpose(0, 1) : B).data();
      });
      const r = spawnSync(PYTHON, ['-c', TORCH_MATMUL, dir, JSON.stringify(cases)], {
        encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      cases.forEach(({ n, v }, c) => {
        const read = (ext: string): Uint8Array => new Uint8Array(readFileSync(path.join(dir, `${n}${v}.${ext}`)));
        const t32 = new Float32Array(read('out32').buffer), t64 = new Float64Array(read('out64').buffer);
        const rms = Math.sqrt(t64.reduce((s, x) => s + x * x, 0) / t64.length);
        let worstWedge = 0, worstTorch = 0;
        for (let e = 0; e < t32.length; e++) {
          const w = got[c][e];
          // rtol 1e-5 per element; the atol (1e-5 of the typical magnitude) covers elements that
          // cancel to near zero, where PyTorch's own float32 sum has no relative accuracy left.
          if (!(Math.abs(w - t32[e]) <= 1e-5 * Math.abs(t32[e]) + 1e-5 * rms)) {
            expect.fail(`${v} ${n}: element ${e} is ${w}, PyTorch float32 gives ${t32[e]}`);
          }
          worstWedge = Math.max(worstWedge, Math.abs(w - t64[e]));
          worstTorch = Math.max(worstTorch, Math.abs(t32[e] - t64[e]));
        }
        // Float64 sums rounded once are no worse than PyTorch's float32 sums (measured 5–35× better).
        expect(worstWedge, `${v} ${n}: max error vs the float64 product`).toBeLessThanOrEqual(worstTorch);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
