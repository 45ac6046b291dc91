// Shared set-up of the wasm tests: run a function on the JS reference and on the wasm backend with
// the same inputs, operands in every layout, and waiting for worker threads to be ready.
import fc, { type Arbitrary } from 'fast-check';
import { ModuleBuilder, f64 } from '../../packages/core/src/backend/wasm/asm.ts';
import type { emitExp } from '../../packages/core/src/backend/wasm/kernels/math.ts';
import { Generator, Tensor, WasmStorage, getBackend, randn as randnJs, setBackend, setNumThreads, wasmInfo, type DType } from '@wedge/core';

export const FC_SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
export function check<Ts extends unknown[]>(property: fc.IProperty<Ts>, numRuns: number): void {
  fc.assert(property, { numRuns, seed: FC_SEED });
}

/** Run `fn` on backend `name`, restoring the previous backend. */
export function on<T>(name: string, fn: () => T): T {
  const before = getBackend().name;
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(before);
  }
}

export type Layout = 'contiguous' | 'transposed' | 'sliced' | 'expanded';
export const layoutArb: Arbitrary<Layout> = fc.constantFrom('contiguous', 'transposed', 'sliced', 'expanded');

/**
 * A tensor of logical shape `shape` stored per `layout`: transposed (last two dims swapped in
 * memory), sliced (every other element of a wider last dim), expanded (a stride-0 first dim).
 */
export function makeInput(shape: readonly number[], layout: Layout, seed: number, dtype: DType = 'float32', resident = false): Tensor {
  const generator = new Generator(seed);
  // resident: the stored tensor lives in wasm memory (made by a wasm kernel), else on the JS heap
  const randn = (sh: number[], o: { generator: Generator; dtype: DType }): Tensor =>
    resident ? on('wasm', () => randnJs(sh, o).mul(1)) : randnJs(sh, o);
  const s = [...shape];
  const nd = s.length;
  if (layout === 'transposed' && nd >= 2) {
    const t = [...s];
    [t[nd - 2], t[nd - 1]] = [t[nd - 1], t[nd - 2]];
    return randn(t, { generator, dtype }).transpose(-2, -1);
  }
  if (layout === 'sliced' && nd >= 1) {
    const w = [...s];
    w[nd - 1] = 2 * s[nd - 1] + 1;
    return randn(w, { generator, dtype }).slice(-1, 1, undefined, 2);
  }
  if (layout === 'expanded' && nd >= 1) return randn([1, ...s.slice(1)], { generator, dtype }).expand(s);
  return randn(s, { generator, dtype });
}

/** Bitwise equality of two float arrays (NaN equals NaN; −0 differs from +0). */
export function expectSameBits(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  if (got.length !== want.length) throw new Error(`${label}: ${got.length} values, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: [${i}] = ${got[i]} on wasm, ${want[i]} on the JS reference`);
  }
}

export const isWasm = (t: Tensor): boolean => t.storage instanceof WasmStorage;

/** Ask for `n` threads and wait until the workers are up (they start in the background). */
export async function useThreads(n: number): Promise<void> {
  setNumThreads(n);
  for (let i = 0; i < 400 && wasmInfo().readyThreads < n; i++) await new Promise((r) => setTimeout(r, 25));
  if (wasmInfo().readyThreads < n) throw new Error(`only ${wasmInfo().readyThreads} of ${n} wasm threads started`);
}

/** Run the float64 emitter `emit` over xs in a module of its own. */
export function runEmitted(emit: typeof emitExp, xs: ArrayLike<number>): Float64Array {
  const m = new ModuleBuilder({ shared: false, maxPages: 64 });
  m.fn('all', 'out[i] = op(x[i]) in place (float64)', ['p', 'n'], (f, p, n) => {
    const i = f.local('i32', 'i'), x = f.local('f64', 'x'), y = f.local('f64', 'y');
    f.for(i, f.get(p), () => f.get(n), 8, () => {
      f.set(x, f64.load(f.get(i)));
      emit(f, x, y);
      f.store('f64', f.get(i), f.get(y));
    });
  });
  const memory = new WebAssembly.Memory({ initial: 64 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory } });
  const buf = new Float64Array(memory.buffer, 0, xs.length);
  buf.set(xs);
  (inst.exports.all as (p: number, n: number) => void)(0, 8 * xs.length);
  return Float64Array.from(buf);
}
