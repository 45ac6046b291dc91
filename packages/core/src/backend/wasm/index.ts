// The wasm backend's entry: feature detection at load, the engine (heap, compiled kernels, thread
// pool), registration as 'wasm' and as the default CPU engine, and the user-facing controls
// setNumThreads / getNumThreads / wasmMemory. Set WEDGE_BACKEND=cpu to keep the JS reference as the
// default; setBackend('cpu') does the same at run time.
import { WedgeError } from '../../errors.ts';
import { registerBackend, setCpuEngine } from '../dispatch.ts';
import { makeWasmBackend, type WasmEngine } from './backend.ts';
import { compileKernels } from './codegen.ts';
import { Heap, type WasmMemoryInfo } from './heap.ts';
import { ThreadPool, availableCores } from './threads.ts';

export type { WasmMemoryInfo } from './heap.ts';
export type { WasmBackend } from './backend.ts';
export type { FusedExpr, FusedOps } from './kernels/fused.ts';
export type { Expr } from './asm.ts';
export { WasmStorage } from './storage.ts';

/** The smallest module that uses a simd128 instruction (i32x4.splat of 0, dropped). */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
  10, 9, 1, 7, 0, 0x41, 0, 0xfd, 0x11, 0x1a, 0x0b,
]);

/**
 * Whether this JS engine runs WebAssembly with the simd128 instructions.
 * @example
 * if (!wasmSimdSupported()) console.log('the wasm backend is off: no WebAssembly SIMD here');
 */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

let engine: WasmEngine | null = null;
let notice: string | null = null;

function start(): WasmEngine {
  const shared = typeof SharedArrayBuffer !== 'undefined' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
  const heap = new Heap(shared);
  const kernels = compileKernels(shared);
  const instance = new WebAssembly.Instance(kernels.module, { env: { memory: heap.memory } });
  const fns = kernels.names.map((n) => instance.exports[n] as (...args: number[]) => void);
  const pool = shared ? new ThreadPool(kernels, heap.memory, fns) : null;
  if (!shared) {
    notice = '[wedge] SharedArrayBuffer is unavailable (a page needs cross-origin isolation): the wasm backend runs on one thread';
    console.warn(notice);
  }
  return { heap, pool, kernels, fns };
}

function requireEngine(who: string): WasmEngine {
  if (engine === null) throw new WedgeError(`${who}: the wasm backend is not available here (WebAssembly SIMD not supported)`);
  return engine;
}

/**
 * Use `n` threads (the calling one included) for wasm kernels; default: every core. Results are
 * the same for any n.
 * @example setNumThreads(1) // single-threaded, e.g. to measure
 */
export function setNumThreads(n: number): void {
  const e = requireEngine('setNumThreads');
  if (!Number.isInteger(n) || n < 1) throw new WedgeError(`setNumThreads: needs a whole number ≥ 1, got ${n}`);
  e.pool?.setThreads(n);
}

/**
 * Threads the wasm backend uses (1 without SharedArrayBuffer).
 * @example
 * setNumThreads(2); getNumThreads() // 2 where SharedArrayBuffer exists, else 1
 */
export function getNumThreads(): number {
  return engine?.pool?.threads ?? 1;
}

/**
 * The wasm heap's accounting: bytes in use (and their peak), the memory's size, live blocks, and
 * how many blocks the GC backstop freed (tensors dropped without dispose/tidy).
 * @example tidy(() => step()); console.log(wasmMemory().bytesInUse)
 */
export function wasmMemory(): WasmMemoryInfo & { threads: number } {
  return { ...requireEngine('wasmMemory').heap.info(), threads: getNumThreads() };
}

/**
 * Whether the wasm backend loaded, and why not when it did not.
 * @example
 * const { available, reason, threads } = wasmInfo();
 */
export function wasmInfo(): { available: boolean; reason: string | null; threads: number; readyThreads: number; kernelBytes: number } {
  return {
    available: engine !== null,
    reason: engine ? notice : 'WebAssembly SIMD is not supported by this JS engine',
    threads: getNumThreads(),
    /** Threads able to take work now (workers start in the background). */
    readyThreads: engine?.pool?.ready() ?? (engine ? 1 : 0),
    kernelBytes: engine?.kernels.bytes ?? 0,
  };
}

if (wasmSimdSupported()) {
  engine = start();
  registerBackend(makeWasmBackend(engine));
  const env = typeof process !== 'undefined' ? process.env : undefined;
  const threads = Number(env?.WEDGE_NUM_THREADS ?? availableCores());
  engine.pool?.setThreads(Number.isInteger(threads) && threads >= 1 ? threads : 1);
  if (env?.WEDGE_BACKEND !== 'cpu') setCpuEngine('wasm');
}
