// The backend interface: kernels keyed by name, like TensorFlow.js's kernel registry. The CPU
// backend implements every kernel and is the reference; others implement a subset and the
// dispatcher falls back along its chain (gpu → wasm → cpu) for the rest, kernel by kernel.
import type { Tensor } from '../tensor.ts';

/**
 * A kernel computes a fresh output from its inputs. Inputs may be strided views (broadcast dims
 * have stride 0); shapes are already checked by the op. Outputs are contiguous.
 * @example const expKernel: Kernel = ([x]) => cpuTensor(Float32Array.from(x.data(), Math.exp), x.shape, 'float32');
 */
export type Kernel = (inputs: readonly Tensor[], attrs: any, backend: Backend) => Tensor;

/**
 * A backend plugin: kernels keyed by name, and optionally a say in which calls it takes.
 * @example
 * registerBackend({ name: 'mine', kernels: { exp: expKernel } }); setBackend('mine');
 */
export interface Backend {
  readonly name: string;
  readonly kernels: Readonly<Partial<Record<string, Kernel>>>;
  /** Whether this backend should run this call (e.g. false for tiny tensors). Default: yes. */
  accepts?(kernel: string, inputs: readonly Tensor[], attrs: unknown): boolean;
}
