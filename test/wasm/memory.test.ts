// Memory of the wasm backend: tidy()/dispose() return blocks to the allocator, which reuses them, so
// a training loop's wasm memory is flat after its first step; over 10,000 steps of a small model
// the wasm heap's bytes in use and size do not move, and (after a full GC, in a child process) the
// JS heap grows by less than 2 MiB and RSS by less than 16 MiB. Past wasm32's 4 GiB a call goes to the JS reference, or fails clearly.
import { describe, expect, it } from 'vitest';
import {
  Tensor, WedgeError, getBackend, randn, tidy, wasmMemory, wasmSimdSupported, type Storage,
} from '@wedge/core';
import { Heap } from '../../packages/core/src/backend/wasm/heap.ts';
import { spawnSync } from 'node:child_process';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { on } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

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

  it('stays flat over 10,000 training steps of a small model (wasm heap exactly, JS heap within 2 MiB, RSS within 16 MiB)', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/wasm/fixtures/train_memory_child.ts'], { cwd: root, encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const { loss, readings } = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      loss: number;
      readings: { steps: number; rss: number; heapUsed: number; wasmInUse: number; wasmReserved: number; allocations: number }[];
    };
    expect(Number.isFinite(loss)).toBe(true);
    const first = readings[0]; // after 1,000 steps, once everything has been made once
    const last = readings[readings.length - 1];
    expect(last.allocations - first.allocations, 'the steps allocate wasm blocks (so reuse is what is measured)').toBeGreaterThan(9000);
    for (const r of readings) {
      expect(r.wasmInUse, `wasm bytes in use at step ${r.steps}`).toBe(first.wasmInUse);
      expect(r.wasmReserved, `wasm memory size at step ${r.steps}`).toBe(first.wasmReserved);
      expect(r.heapUsed - first.heapUsed, `JS heap growth at step ${r.steps}`).toBeLessThan(2 * 2 ** 20);
      expect(r.rss - first.rss, `RSS growth at step ${r.steps}`).toBeLessThan(16 * 2 ** 20);
    }
  });

  it('past wasm32 memory: the backend declines (the JS reference runs), and its heap fails with a clear error', () => {
    const huge: Storage = { device: 'cpu', dtype: 'float32', size: 2 ** 30 + 1, read: () => new Float32Array(0), dispose() {}, disposed: false };
    const t = new Tensor(huge, [2 ** 30 + 1]);
    on('wasm', () => expect(getBackend().accepts?.('add', [t, t], { dtype: 'float32' })).toBe(false));
    const heap = new Heap(false, 1);
    expect(() => heap.alloc(5 * 2 ** 30, 'add')).toThrow(WedgeError);
    expect(() => heap.alloc(5 * 2 ** 30, 'add')).toThrow(/add: needs 5368709120 bytes of wasm memory .* wasm32 memory stops at 4 GiB/);
  });

  it('frees, through the FinalizationRegistry backstop, tensors dropped without dispose or tidy', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const before = wasmMemory();
    on('wasm', () => {
      const x = randn([256]);
      for (let i = 0; i < 50; i++) x.mul(x); // 50 wasm tensors, dropped at once
    });
    expect(wasmMemory().bytesInUse).toBeGreaterThan(before.bytesInUse);
    for (let i = 0; i < 20 && wasmMemory().freedByGc - before.freedByGc < 50; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(wasmMemory().freedByGc - before.freedByGc).toBeGreaterThanOrEqual(50);
    expect(wasmMemory().bytesInUse).toBe(before.bytesInUse);
  });

  it('reuses freed blocks of the same size class instead of growing', () => {
    const heap = new Heap(false, 1);
    const a = heap.alloc(1000);
    heap.release(a);
    expect(heap.alloc(990)).toBe(a);
    expect(heap.info()).toMatchObject({ liveBlocks: 1, frees: 1, allocations: 2 });
  });
});
