// The thread pool: worker threads (Node's worker_threads, a browser's Web Workers) that each
// instantiate the kernel module over the one shared WebAssembly.Memory. A call is a list of chunks
// (argument lists of one kernel, each computing a disjoint part of the output); the calling thread
// and the workers claim chunks from a shared counter (Atomics.add) until none is left, so a worker
// that is slow to wake, or has no core to run on, costs nothing: the caller does its chunks. Which
// thread ran a chunk never changes its bits, so results are the same for any thread count. Workers
// spin briefly, then Atomics.wait; they never keep Node alive (unref).
import { WedgeError } from '../../errors.ts';
import type { CompiledKernels } from './codegen.ts';

// control block (Int32Array) layout
const DONE = 0; //          chunks finished in the current call
const NEXT = 1; //          next chunk to claim (CLOSED between calls)
const NCHUNKS = 2;
const FN = 3;
const NARGS = 4;
const SCRATCH_ARG = 5; //   argument replaced by the thread's own scratch block (−1: none)
const SCRATCH_BASE = 6;
const SCRATCH_STRIDE = 7;
const ERROR = 8;
const ACTIVE = 9; //        threads that may take chunks (workers with a higher id stay idle)
const SEQ = 10; //          bumped once per call: wakes the workers
const READY = 16; //        READY + w: worker w is up
const ARGS = 128; //        chunk c's arguments at ARGS + c·nargs
const CLOSED = 1 << 30;
export const MAX_CHUNKS = 256;
const MAX_ARGS = 24;

/** The worker's whole program (plain JS, so that it needs no TypeScript loader and runs in both hosts). */
const WORKER_SOURCE = `
const start = (data) => {
  const { module, memory, ctrl: sab, id, names } = data;
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => inst.exports[n]);
  const ctrl = new Int32Array(sab);
  Atomics.store(ctrl, ${READY} + id - 1, 1);
  let seen = Atomics.load(ctrl, ${SEQ});
  for (;;) {
    let s = Atomics.load(ctrl, ${SEQ});
    for (let spin = 0; s === seen && spin < 20000; spin++) s = Atomics.load(ctrl, ${SEQ});
    if (s === seen) { Atomics.wait(ctrl, ${SEQ}, seen, 1000); continue; }
    seen = s;
    if (id >= Atomics.load(ctrl, ${ACTIVE})) continue;
    for (;;) {
      const c = Atomics.add(ctrl, ${NEXT}, 1);
      if (c >= Atomics.load(ctrl, ${NCHUNKS})) break;
      const na = ctrl[${NARGS}], sa = ctrl[${SCRATCH_ARG}];
      const args = Array.from(ctrl.subarray(${ARGS} + c * na, ${ARGS} + (c + 1) * na));
      if (sa >= 0) args[sa] = ctrl[${SCRATCH_BASE}] + id * ctrl[${SCRATCH_STRIDE}];
      try { fns[ctrl[${FN}]](...args); } catch (e) { Atomics.store(ctrl, ${ERROR}, 1); }
      Atomics.add(ctrl, ${DONE}, 1);
      Atomics.notify(ctrl, ${DONE});
    }
  }
};
if (typeof require === 'function') start(require('node:worker_threads').workerData);
else self.onmessage = (e) => start(e.data);
`;

type Fn = (...args: number[]) => void;

/** Whether this thread may block in Atomics.wait (a page's main thread may not). */
const canBlock = (): boolean => typeof (globalThis as { window?: unknown }).window === 'undefined';

/** The number of cores: os.availableParallelism() in Node, navigator.hardwareConcurrency in a browser. */
export function availableCores(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (m: string) => any } }).process;
  const os = proc?.getBuiltinModule?.('node:os');
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** Per-thread scratch: argument `arg` of every chunk becomes base + thread·stride. */
export interface ScratchSpec {
  readonly arg: number;
  readonly base: number;
  readonly stride: number;
}

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private readonly workers: { terminate(): unknown }[] = [];
  private wanted = 1;

  constructor(
    private readonly kernels: CompiledKernels,
    private readonly memory: WebAssembly.Memory,
    private readonly fns: readonly Fn[],
    private readonly maxWorkers = 64,
  ) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (ARGS + MAX_CHUNKS * MAX_ARGS)));
    this.ctrl[NEXT] = CLOSED;
  }

  /** Use `n` threads in all (the calling one included); the workers start in the background. */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new WedgeError(`setNumThreads: needs a whole number ≥ 1, got ${n}`);
    this.wanted = canBlock() ? Math.min(n, this.maxWorkers + 1) : 1;
    while (this.workers.length < this.wanted - 1) this.spawn();
    Atomics.store(this.ctrl, ACTIVE, this.wanted);
  }

  get threads(): number {
    return this.wanted;
  }

  /** Threads started and able to take chunks now (this one included). */
  ready(): number {
    let n = 1;
    for (let w = 0; w < this.wanted - 1; w++) if (Atomics.load(this.ctrl, READY + w) === 1) n++;
    return n;
  }

  private spawn(): void {
    const id = this.workers.length + 1;
    const data = { module: this.kernels.module, memory: this.memory, ctrl: this.ctrl.buffer, id, names: this.kernels.names };
    const proc = (globalThis as { process?: { getBuiltinModule?: (m: string) => any } }).process;
    const wt = proc?.getBuiltinModule?.('node:worker_threads');
    if (wt) {
      const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data });
      w.unref();
      this.workers.push(w);
      return;
    }
    const W = (globalThis as { Worker?: new (url: string) => { postMessage(d: unknown): void; terminate(): void } }).Worker;
    const B = (globalThis as { Blob?: new (parts: string[], o: { type: string }) => unknown }).Blob;
    const U = (globalThis as { URL?: { createObjectURL(b: unknown): string } }).URL;
    if (!W || !B || !U) return;
    const w = new W(U.createObjectURL(new B([WORKER_SOURCE], { type: 'text/javascript' })));
    w.postMessage(data);
    this.workers.push(w);
  }

  /** Run kernel `fn` on every chunk (argument list), shared between this thread and the workers. */
  run(fn: number, chunks: readonly (readonly number[])[], scratch?: ScratchSpec): void {
    const ctrl = this.ctrl;
    const n = chunks.length;
    const na = chunks[0].length;
    if (n > MAX_CHUNKS || na > MAX_ARGS) throw new WedgeError(`wasm threads: ${n} chunks of ${na} arguments (at most ${MAX_CHUNKS} of ${MAX_ARGS})`);
    ctrl[FN] = fn;
    ctrl[NARGS] = na;
    ctrl[SCRATCH_ARG] = scratch ? scratch.arg : -1;
    ctrl[SCRATCH_BASE] = scratch ? scratch.base : 0;
    ctrl[SCRATCH_STRIDE] = scratch ? scratch.stride : 0;
    for (let c = 0; c < n; c++) ctrl.set(chunks[c], ARGS + c * na);
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, NCHUNKS, n);
    Atomics.store(ctrl, NEXT, 0);
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
    // this thread claims chunks like any worker (thread 0's scratch)
    const f = this.fns[fn];
    for (;;) {
      const c = Atomics.add(ctrl, NEXT, 1);
      if (c >= n) break;
      const args = chunks[c].slice();
      if (scratch) args[scratch.arg] = scratch.base;
      f(...args);
      Atomics.add(ctrl, DONE, 1);
    }
    for (let spin = 0; Atomics.load(ctrl, DONE) < n; spin++) {
      const done = Atomics.load(ctrl, DONE);
      if (spin > 2000 && done < n) Atomics.wait(ctrl, DONE, done, 2);
    }
    Atomics.store(ctrl, NEXT, CLOSED);
    if (Atomics.exchange(ctrl, ERROR, 0) !== 0) throw new WedgeError(`wasm threads: kernel ${this.kernels.names[fn]} trapped on a worker`);
  }
}
