// The thread pool: worker threads (Node's worker_threads, a browser's Web Workers) that each
// instantiate the kernel module over the one shared WebAssembly.Memory and run kernel calls handed
// to them through a shared control block (Atomics.wait / notify). The calling thread runs the first
// part of each split itself and waits for the others. Splits are over outputs only (rows, batch
// matrices), so results are the same for any number of threads; a worker that is not ready yet is
// simply not given a part. Workers never keep Node alive (unref).
import { WedgeError } from '../../errors.ts';
import type { CompiledKernels } from './codegen.ts';

/** Int32 slots per worker in the control block: seq, fn, nargs, ready, error, args…. */
const SLOT = 32;
const MAX_ARGS = SLOT - 5;
const DONE = 0; // ctrl[0]: parts finished in the current call

/** The worker's whole program (plain JS, so that it needs no TypeScript loader and runs in both hosts). */
const WORKER_SOURCE = `
const start = (data) => {
  const { module, memory, ctrl: sab, slot, names } = data;
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => inst.exports[n]);
  const ctrl = new Int32Array(sab);
  Atomics.store(ctrl, slot + 3, 1);
  let seen = 0;
  for (;;) {
    let s = Atomics.load(ctrl, slot);
    for (let spin = 0; s === seen && spin < 20000; spin++) s = Atomics.load(ctrl, slot);
    if (s === seen) { Atomics.wait(ctrl, slot, seen, 1000); continue; }
    seen = s;
    const n = ctrl[slot + 2];
    const args = [];
    for (let i = 0; i < n; i++) args.push(ctrl[slot + 5 + i]);
    try { fns[ctrl[slot + 1]](...args); } catch (e) { Atomics.store(ctrl, slot + 4, 1); }
    Atomics.add(ctrl, ${DONE}, 1);
    Atomics.notify(ctrl, ${DONE});
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

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private readonly workers: { slot: number; seq: number; handle: { terminate(): unknown } }[] = [];
  private wanted = 1;

  constructor(
    private readonly kernels: CompiledKernels,
    private readonly memory: WebAssembly.Memory,
    private readonly fns: readonly Fn[],
    private readonly maxWorkers = 64,
  ) {
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (SLOT + SLOT * maxWorkers)));
  }

  /** Use `n` threads in all (the calling one included); workers start on first need. */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new WedgeError(`setNumThreads: needs a whole number ≥ 1, got ${n}`);
    this.wanted = Math.min(n, this.maxWorkers + 1);
    if (!canBlock()) this.wanted = 1;
    while (this.workers.length < this.wanted - 1) this.spawn();
  }

  get threads(): number {
    return this.wanted;
  }

  /** Threads that can take a part right now (ready workers + this one). */
  available(): number {
    let n = 1;
    for (let w = 0; w < this.wanted - 1 && w < this.workers.length; w++) if (Atomics.load(this.ctrl, this.workers[w].slot + 3) === 1) n++;
    return n;
  }

  private spawn(): void {
    const slot = SLOT * (this.workers.length + 1);
    const data = { module: this.kernels.module, memory: this.memory, ctrl: this.ctrl.buffer, slot, names: this.kernels.names };
    const proc = (globalThis as { process?: { getBuiltinModule?: (m: string) => any } }).process;
    const wt = proc?.getBuiltinModule?.('node:worker_threads');
    let handle: { terminate(): unknown };
    if (wt) {
      const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data });
      w.unref();
      handle = w;
    } else {
      const W = (globalThis as { Worker?: new (url: string) => { postMessage(d: unknown): void; terminate(): void } }).Worker;
      const B = (globalThis as { Blob?: new (parts: string[], o: { type: string }) => unknown }).Blob;
      const U = (globalThis as { URL?: { createObjectURL(b: unknown): string } }).URL;
      if (!W || !B || !U) return;
      const w = new W(U.createObjectURL(new B([WORKER_SOURCE], { type: 'text/javascript' })));
      w.postMessage(data);
      handle = w;
    }
    this.workers.push({ slot, seq: 0, handle });
  }

  /**
   * Run kernel `fn` once per argument list, in parallel: parts[0] on this thread, the others on
   * ready workers (at most available() parts).
   */
  run(fn: number, parts: readonly (readonly number[])[]): void {
    const ctrl = this.ctrl;
    const others = parts.length - 1;
    if (others > this.available() - 1) throw new WedgeError(`wasm threads: ${parts.length} parts for ${this.available()} threads`);
    Atomics.store(ctrl, DONE, 0);
    for (let w = 0; w < others; w++) {
      const worker = this.workers[w];
      const args = parts[w + 1];
      if (args.length > MAX_ARGS) throw new WedgeError(`wasm threads: ${args.length} arguments (at most ${MAX_ARGS})`);
      ctrl[worker.slot + 1] = fn;
      ctrl[worker.slot + 2] = args.length;
      for (let i = 0; i < args.length; i++) ctrl[worker.slot + 5 + i] = args[i];
      Atomics.store(ctrl, worker.slot, ++worker.seq);
      Atomics.notify(ctrl, worker.slot, 1);
    }
    this.fns[fn](...parts[0]);
    for (let spin = 0; Atomics.load(ctrl, DONE) < others; spin++) {
      const done = Atomics.load(ctrl, DONE);
      if (spin > 20000 && done < others) Atomics.wait(ctrl, DONE, done, 5);
    }
    for (let w = 0; w < others; w++) {
      if (Atomics.exchange(ctrl, this.workers[w].slot + 4, 0) !== 0) {
        throw new WedgeError(`wasm threads: kernel ${this.kernels.names[fn]} trapped on worker ${w + 1}`);
      }
    }
  }
}
