// The dispatcher: runs a kernel on the first backend of a fallback chain that has it and accepts the
// call. The chain is the active backend, then the default CPU engine (the wasm backend where it
// registered itself as such), then the CPU reference: gpu → wasm → cpu. `setBackend('cpu')` runs
// the reference alone. Set WEDGE_LOG_KERNELS=1 (or call logKernels) to see which backend ran each
// kernel and why the ones before it did not.
import { WedgeError } from '../errors.ts';
import { CpuStorage } from '../storage.ts';
import { Tensor } from '../tensor.ts';
import type { Backend, Kernel } from './backend.ts';
import { cpuBackend } from './cpu/index.ts';

const backends = new Map<string, Backend>([['cpu', cpuBackend]]);
let active: Backend = cpuBackend;
/** The backend that runs CPU work when no other is chosen (see setCpuEngine). */
let cpuEngine: Backend = cpuBackend;
/** active → CPU engine → CPU reference without repeats; rebuilt when either changes, not per call. */
let chain: readonly Backend[] = [cpuBackend];
function rebuildChain(): void {
  if (active === cpuBackend) chain = [cpuBackend];
  else chain = [active, ...(cpuEngine !== active ? [cpuEngine] : []), ...(cpuEngine !== cpuBackend ? [cpuBackend] : [])];
}

/**
 * Kernels other packages declare for a backend by name (the models' `rope` and `gramDet`), kept
 * apart from the backend object so that they may be declared before the backend registers.
 */
const extraKernels = new Map<string, Map<string, Kernel>>();

/**
 * Receives each kernel call: the kernel, the backend that ran it, and why the backends before it did not.
 * @example
 * logKernels((kernel, backend, why) => console.log(kernel, backend, why ?? ''))
 */
export type KernelLogger = (kernel: string, backend: string, reason?: string) => void;
const printLine: KernelLogger = (k, b, why) => console.error(`[wedge] ${k} → ${b}${why ? ` (${why})` : ''}`);
// NOTE: `process` is read through globalThis so this file needs no Node types and runs in a browser.
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
let logger: KernelLogger | null = env?.WEDGE_LOG_KERNELS ? printLine : null;

/**
 * Log every kernel call with the backend that ran it; `null` turns logging off.
 * @example
 * logKernels(true); x.matmul(w); logKernels(null);
 */
export function logKernels(fn: KernelLogger | null | true): void {
  logger = fn === true ? printLine : fn;
}

/**
 * Add (or replace) a backend by its name; setBackend() makes it active.
 * @example
 * registerBackend({ name: 'mine', kernels: { exp: expKernel } })
 */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
  if (active.name === backend.name) active = backend;
  if (cpuEngine.name === backend.name) cpuEngine = backend;
  rebuildChain();
}

/**
 * Declare kernel `name` for the backend called `backend` (registered now or later). A backend's own
 * kernel of the same name wins. This is how a package outside core brings its fused ops to every
 * backend from its own files.
 * @example registerKernel('cpu', 'gramDet', gramDetCpu)
 */
export function registerKernel(backend: string, name: string, kernel: Kernel): void {
  let table = extraKernels.get(backend);
  if (!table) extraKernels.set(backend, (table = new Map()));
  table.set(name, kernel);
}

/** registerKernel for several kernels of one backend. @example registerKernels('gpu', { gramDet, rope }) */
export function registerKernels(backend: string, kernels: Readonly<Record<string, Kernel>>): void {
  for (const [name, k] of Object.entries(kernels)) registerKernel(backend, name, k);
}

/**
 * The kernel `name` of `backend`: its own, else one registered for it by name.
 * @example
 * kernelOf(getBackend(), 'matmul') !== undefined
 */
export function kernelOf(backend: Backend, name: string): Kernel | undefined {
  return backend.kernels[name] ?? extraKernels.get(backend.name)?.get(name);
}

/**
 * Make `name` the active backend. `setBackend('cpu')` runs everything on the JS reference.
 * @example
 * setBackend('cpu')
 */
export function setBackend(name: string): void {
  const b = backends.get(name);
  if (!b) throw new WedgeError(`setBackend: no backend '${name}' (registered: ${[...backends.keys()].join(', ')})`);
  active = b;
  rebuildChain();
}

/**
 * Make the registered backend `name` the default CPU engine: the fallback of every other backend,
 * and the active one if the active one was the previous engine. The wasm backend calls this when it
 * loads where WebAssembly SIMD runs.
 * @example setCpuEngine('wasm')
 */
export function setCpuEngine(name: string): void {
  const b = backends.get(name);
  if (!b) throw new WedgeError(`setCpuEngine: no backend '${name}' (registered: ${[...backends.keys()].join(', ')})`);
  if (active === cpuEngine) active = b;
  cpuEngine = b;
  rebuildChain();
}

/** The active backend. @example getBackend().name // 'cpu' */
export const getBackend = (): Backend => active;
/** The backend that runs CPU work (the fallback of every other backend). @example getCpuEngine().name // 'cpu' */
export const getCpuEngine = (): Backend => cpuEngine;
/** Names of the registered backends. @example listBackends() // ['cpu', 'gpu'] */
export const listBackends = (): string[] => [...backends.keys()];

/**
 * The backends a call tries, in order: active → CPU engine → CPU reference, without repeats.
 * @example
 * fallbackChain().map((b) => b.name) // ['gpu', 'cpu']
 */
export function fallbackChain(): Backend[] {
  return [...chain];
}

/**
 * A view of `t` whose storage is on the CPU (same shape, strides and offset).
 * @example
 * toCpu(y).storage.device // 'cpu'
 */
export function toCpu(t: Tensor): Tensor {
  if (t.storage.device === 'cpu') return t;
  return new Tensor(new CpuStorage(t.storage.read(), t.dtype), t.shape, t.strides, t.offset);
}

/**
 * Run kernel `k` of backend `b`, turning the engine's failure to allocate its output (a bare
 * RangeError) into a WedgeError naming the kernel, the backend and the input shapes. The CPU
 * reference gets its inputs as CPU views.
 */
function runOn(name: string, b: Backend, k: Kernel, inputs: readonly Tensor[], attrs: unknown): Tensor {
  try {
    return k(b === cpuBackend ? inputs.map(toCpu) : inputs, attrs, b);
  } catch (e) {
    if (e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer allocation|out of memory/i.test(e.message)) {
      const shapes = inputs.map((x) => `${x.dtype} [${x.shape.join(', ')}]`).join(', ');
      throw new WedgeError(`${name}: out of memory on backend ${b.name} (inputs ${shapes}): ${e.message}`);
    }
    throw e;
  }
}

/**
 * Run kernel `name` on the first backend of the fallback chain that has it and accepts the call.
 * @example
 * runKernel('exp', [x])
 */
export function runKernel(name: string, inputs: readonly Tensor[], attrs: unknown = {}): Tensor {
  for (const x of inputs) {
    if (x.storage.disposed) throw new WedgeError(`${name}: an input tensor was disposed`);
  }
  const why: string[] | null = logger ? [] : null;
  for (const b of chain) {
    const k = kernelOf(b, name);
    // the CPU reference, last in the chain, takes every call it has a kernel for
    if (k && (b === cpuBackend || (b.accepts?.(name, inputs, attrs) ?? true))) {
      logger?.(name, b.name, why!.length ? why!.join('; ') : undefined);
      return runOn(name, b, k, inputs, attrs);
    }
    if (b === cpuBackend) break;
    why?.push(k ? `${b.name} declined` : `${b.name} has no ${name} kernel`);
  }
  throw new WedgeError(`${name}: no kernel '${name}' on backend cpu`);
}
