// Memory of the wasm backend: tidy()/dispose() return blocks to the allocator, which reuses them, so
// a training loop's wasm memory is flat after its first step; over 10,000 steps of a small model
// the heap's bytes in use and size do not move, and RSS (after a full GC) grows by less than 16 MiB. Past wasm32's 4 GiB a call goes to the JS reference, or fails clearly.
import { describe, expect, it } from 'vitest';
import {
  Adam, Generator, Linear, Tensor, WedgeError, crossEntropy, getBackend, randint, randn, tidy, wasmMemory,
  wasmSimdSupported, type Storage,
} from '@wedge/core';
import { Heap } from '../../packages/core/src/backend/wasm/heap.ts';
import { on } from './harness.ts';
import v8 from 'node:v8';
import vm from 'node:vm';

// a full GC before each RSS reading, so that the bound measures what stays, not V8's heap settling
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const settledRss = (): number => {
  gc();
  gc();
  return process.memoryUsage().rss;
};

describe.skipIf(!wasmSimdSupported())('wasm memory', () => {
  it('tidy frees what a step made: bytes in use return to where they were', () => {
    on('wasm', () => {
      const x = randn([64, 64]);
      const before = wasmMemory().bytesInUse;
      tidy(() => {
        x.matmul(x).add(x).sum();
      });
      expect(wasmMemory().bytesInUse).toBe(before);
      const y = x.mul(x);
      expect(wasmMemory().bytesInUse).toBeGreaterThan(before);
      y.dispose();
      expect(wasmMemory().bytesInUse).toBe(before);
    });
  });

  it('stays flat over 10,000 training steps of a small model (heap exactly, RSS within 16 MiB)', () => {
    on('wasm', () => {
      const g = new Generator(0);
      const net = new Linear(16, 16, { generator: g });
      const opt = new Adam(net.parameters(), { lr: 1e-3 });
      const x = randn([8, 16], { generator: g });
      const y = randint(0, 16, [8], { generator: g });
      const step = (): number =>
        tidy(() => {
          opt.zeroGrad();
          const loss = crossEntropy(net.forward(x).relu(), y);
          loss.backward();
          opt.step();
          return loss.item();
        });
      for (let i = 0; i < 1000; i++) step();
      const heap0 = wasmMemory();
      const rss0 = settledRss();
      let last = 0;
      for (let i = 0; i < 9000; i++) last = step();
      const heap1 = wasmMemory();
      const rss1 = settledRss();
      expect(Number.isFinite(last)).toBe(true);
      expect(heap1.bytesInUse, 'wasm bytes in use after 10,000 steps').toBe(heap0.bytesInUse);
      expect(heap1.bytesReserved, 'wasm memory size after 10,000 steps').toBe(heap0.bytesReserved);
      expect(heap1.allocations - heap0.allocations, 'the steps did allocate (so the test measures reuse)').toBeGreaterThan(9000);
      expect(rss1 - rss0, 'RSS growth over 9,000 steps').toBeLessThan(16 * 2 ** 20);
    });
  });

  it('past wasm32 memory: the backend declines (the JS reference runs), and its heap fails with a clear error', () => {
    const huge: Storage = { device: 'cpu', dtype: 'float32', size: 2 ** 30 + 1, read: () => new Float32Array(0), dispose() {}, disposed: false };
    const t = new Tensor(huge, [2 ** 30 + 1]);
    on('wasm', () => expect(getBackend().accepts?.('add', [t, t], { dtype: 'float32' })).toBe(false));
    const heap = new Heap(false, 1);
    expect(() => heap.alloc(5 * 2 ** 30, 'add')).toThrow(WedgeError);
    expect(() => heap.alloc(5 * 2 ** 30, 'add')).toThrow(/add: needs 5368709120 bytes of wasm memory .* wasm32 memory stops at 4 GiB/);
  });

  it('reuses freed blocks of the same size class instead of growing', () => {
    const heap = new Heap(false, 1);
    const a = heap.alloc(1000);
    heap.release(a);
    expect(heap.alloc(990)).toBe(a);
    expect(heap.info()).toMatchObject({ liveBlocks: 1, frees: 1, allocations: 2 });
  });
});
