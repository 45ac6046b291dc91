// The dispatcher: runs a kernel on the active backend, or on the CPU reference when the active
// backend lacks it or declines the call. Set WEDGE_LOG_KERNELS=1 (or call logKernels) to see which
// backend ran each kernel.
import { WedgeError } from '../errors.ts';
import { CpuStorage } from '../storage.ts';
import { Tensor } from '../tensor.ts';
import type { Backend } from './backend.ts';
import { cpuBackend } from './cpu.ts';

const backends = new Map<string, Backend>([['cpu', cpuBackend]]);
let active: Backend = cpuBackend;

export type KernelLogger = (kernel: string, backend: string, reason?: string) => void;
let logger: KernelLogger | null =
  typeof process !== 'undefined' && process.env?.WEDGE_LOG_KERNELS
    ? (k, b, why) => console.error(`[wedge] ${k} → ${b}${why ? ` (${why})` : ''}`)
    : null;

/** Log every kernel call with the backend that ran it; `null` turns logging off. */
export function logKernels(fn: KernelLogger | null | true): void {
  logger = fn === true ? (k, b, why) => console.error(`[wedge] ${k} → ${b}${why ? ` (${why})` : ''}`) : fn;
}

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Make `name` the active backend. */
export function setBackend(name: string): void {
  const b = backends.get(name);
  if (!b) throw new WedgeError(`setBackend: no backend '${name}' (registered: ${[...backends.keys()].join(', ')})`);
  active = b;
}

export const getBackend = (): Backend => active;
export const listBackends = (): string[] => [...backends.keys()];

/** A view of `t` whose storage is on the CPU (same shape, strides and offset). */
export function toCpu(t: Tensor): Tensor {
  if (t.storage.device === 'cpu') return t;
  return new Tensor(new CpuStorage(t.storage.read(), t.dtype), t.shape, t.strides, t.offset);
}

/** Run kernel `name` on the active backend, falling back to the CPU reference. */
export function runKernel(name: string, inputs: readonly Tensor[], attrs: unknown = {}): Tensor {
  for (const x of inputs) {
    if (x.storage.disposed) throw new WedgeError(`${name}: an input tensor was disposed`);
  }
  if (active !== cpuBackend) {
    const k = active.kernels[name];
    if (k && (active.accepts?.(name, inputs, attrs) ?? true)) {
      logger?.(name, active.name);
      return k(inputs, attrs);
    }
    logger?.(name, 'cpu', k ? `${active.name} declined` : `${active.name} has no ${name} kernel`);
  } else {
    logger?.(name, 'cpu');
  }
  const k = cpuBackend.kernels[name];
  if (!k) throw new WedgeError(`${name}: no kernel '${name}' on backend cpu`);
  return k(inputs.map(toCpu), attrs);
}
