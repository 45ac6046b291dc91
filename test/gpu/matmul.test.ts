// Parity of the GPU matmul kernel with the CPU backend in every form core's matmul produces:
// vectors, 2-D, batched, broadcast batch dims (stride 0), transposed operands (read through strides,
// never copied), forward and both gradients, held to the float32 summation bound.
import { describe, it, beforeAll, expect } from 'vitest';
import fc from 'fast-check';
import { Tensor, matmul, logKernels, setBackend, broadcastShapes } from '@wedge/core';
import { broadcastPair } from '@wedge/core/testing';
import { GPU_BACKEND } from '@wedge/gpu';
import { MODES, activate, check, expectBoundedParity, makeInput, type Layout } from './harness.ts';

/** Sizes of M, K, N: small, odd, and past the 64/65 texture-packing boundary. */
const size = fc.constantFrom(1, 2, 3, 5, 8, 17, 64, 65);

const matmulCase = fc.record({
  form: fc.constantFrom('vv', 'vm', 'mv', 'mm', 'mm', 'mm'),
  m: size,
  k: size,
  n: size,
  square: fc.boolean(),
  batch: broadcastPair({ minRank: 0, maxRank: 2, maxDim: 3 }),
  layoutA: fc.constantFrom<Layout>('contiguous', 'transposed', 'expanded'),
  layoutB: fc.constantFrom<Layout>('contiguous', 'transposed', 'sliced'),
  seed: fc.nat(),
});

/**
 * Products any element sums: K in the forward, N in ∂A = G·Bᵀ, M in ∂B = Aᵀ·G, times the batch
 * size when a broadcast operand's gradient is summed over the batch.
 */
const termsOf = (m: number, k: number, n: number, batch: readonly number[]): number =>
  Math.max(m, k, n) * batch.reduce((p, d) => p * d, 1);

/** Run `fn` and return the names of the kernels it dispatched. */
function kernelsRun(fn: () => void): string[] {
  const names: string[] = [];
  logKernels((kernel, backend) => names.push(`${kernel}@${backend}`));
  try {
    fn();
  } finally {
    logKernels(null);
  }
  return names;
}

for (const { mode, skip } of MODES) {
  const numRuns = mode === 'cpu' ? 12 : 5;

  describe.skipIf(skip)(`gpu matmul matches the CPU backend (${mode})`, () => {
    beforeAll(() => activate(mode));

    it('every form: vector/matrix, batched, broadcast batch, transposed and sliced operands, with gradients', () => {
      check(
        fc.property(matmulCase, ({ form, m, k, n, square, batch: [ba, bb], layoutA, layoutB, seed }) => {
          if (square) m = n = k;
          const sa = form === 'vv' || form === 'vm' ? [k] : [...ba, m, k];
          const sb = form === 'vv' || form === 'mv' ? [k] : [...bb, k, n];
          const a = makeInput(sa, layoutA, seed);
          const b = makeInput(sb, layoutB, seed + 1);
          const batch = broadcastShapes('test', ba, bb);
          expectBoundedParity(`matmul ${JSON.stringify(sa)} ${layoutA} @ ${JSON.stringify(sb)} ${layoutB}`, [a, b], matmul, termsOf(m, k, n, batch));
        }),
        numRuns,
      );
    });

    it('attention shapes: q @ kᵀ and attn @ v over [B, H, T, D] views of [B, T, H, D], no copies', () => {
      const [B, T, H, D] = [2, 33, 3, 8];
      const q = makeInput([B, T, H, D], 'contiguous', 1).transpose(1, 2); // [B, H, T, D], strided
      const k = makeInput([B, T, H, D], 'contiguous', 2).transpose(1, 2);
      expectBoundedParity('q @ kᵀ', [q, k], (x, y) => matmul(x, y.transpose(-2, -1)), T);
      const attn = makeInput([B, H, T, T], 'contiguous', 3, { min: 0, max: 1 });
      const v = makeInput([B, T, H, D], 'contiguous', 4).transpose(1, 2);
      expectBoundedParity('attn @ v', [attn, v], matmul, T);
      const ran = kernelsRun(() => matmul(q, k.transpose(-2, -1)));
      expect(ran).toEqual([`matmul@${GPU_BACKEND}`]);
    });

    it('a weight shared across the batch ([B, T, C] @ [C, N]) reads it through stride-0 batch dims', () => {
      const x = makeInput([4, 17, 65], 'contiguous', 5);
      const w = makeInput([65, 9], 'transposed', 6); // Linear's x @ Wᵀ
      expectBoundedParity('x @ Wᵀ', [x, w], matmul, 4 * 17); // ∂W sums over the 68 rows
      setBackend(GPU_BACKEND);
      const ran = kernelsRun(() => matmul(x, w));
      expect(ran).toEqual([`matmul@${GPU_BACKEND}`]);
    });

    it('K = 1 (an outer product) and a [1, 1] result', () => {
      expectBoundedParity('[5, 1] @ [1, 7]', [makeInput([5, 1], 'contiguous', 8), makeInput([1, 7], 'contiguous', 9)], matmul, 7);
      expectBoundedParity('[1, 65] @ [65, 1]', [makeInput([1, 65], 'sliced', 10), makeInput([65, 1], 'contiguous', 11)], matmul, 65);
    });
  });
}

// The shapes above keep each case small; one larger product checks a long K loop and a big output.
describe.skipIf(MODES[0].skip)('gpu matmul at 256 × 300 × 130 (headlessgl)', () => {
  beforeAll(() => activate('headlessgl'));
  it('matches the CPU within the float32 summation bound', () => {
    const a: Tensor = makeInput([256, 300], 'contiguous', 12);
    const b: Tensor = makeInput([130, 300], 'contiguous', 13).transpose(0, 1);
    expectBoundedParity('[256, 300] @ [300, 130]', [a, b], matmul, 300);
  });
});
