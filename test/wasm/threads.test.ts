// Results of the wasm backend do not depend on the number of threads: outputs are split between
// threads (rows, batch matrices, pieces of a long row), never a reduction, so 1, 2 and 3 threads
// give the same bits, run after run.
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, getNumThreads, matmul, setNumThreads, sum, wasmSimdSupported } from '@wedge/core';
import { expectSameBits, makeInput, on, useThreads } from './harness.ts';

const defaultThreads = getNumThreads();
afterAll(() => setNumThreads(defaultThreads));

describe.skipIf(!wasmSimdSupported() || typeof SharedArrayBuffer === 'undefined')('wasm threads', () => {
  it('give bit-identical matmul, elementwise and sum results for 1, 2 and 3 threads', async () => {
    const a = makeInput([4, 97, 64], 'contiguous', 1);
    const b = makeInput([64, 75], 'transposed', 2);
    const big = makeInput([300, 257], 'sliced', 3);
    const long = makeInput([1 << 17], 'contiguous', 4);
    const run = (): Float32Array[] =>
      on('wasm', () => [
        matmul(a, b), //                        batch split
        matmul(a.reshape([388, 64]), b), //     row split
        big.mul(big.sum(-1, true)), //          rows of a broadcast product
        long.add(long), //                      one long row, split in pieces
        sum(big, 0), //                         outputs of a reduction
      ].map((t: Tensor) => t.data() as Float32Array));
    await useThreads(1);
    const one = run();
    for (const n of [2, 3]) {
      await useThreads(n);
      expect(getNumThreads()).toBe(n);
      const many = run();
      many.forEach((x, i) => expectSameBits(`result ${i} on ${n} threads`, x, one[i]));
      run().forEach((x, i) => expectSameBits(`result ${i} on ${n} threads, again`, x, one[i]));
    }
  });

  it('rejects a thread count that is not a whole number ≥ 1', () => {
    expect(() => setNumThreads(0)).toThrow('setNumThreads: needs a whole number ≥ 1, got 0');
    expect(() => setNumThreads(1.5)).toThrow('setNumThreads: needs a whole number ≥ 1, got 1.5');
  });
});
