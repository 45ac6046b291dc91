// The gpu backend: the kernels it lowers, keyed by the CPU backend's names, and its hand-off policy.
// Every other kernel (indexing, cat, argmax, …) and every declined call goes down the dispatcher's
// chain (the wasm engine, then the CPU reference), which reads GPU inputs through GpuStorage.read().
// Other packages bring fused kernels with registerKernel('gpu', …), built on `elementwise` below.
import type { Backend, DType, Kernel, Tensor } from '@wedge/core';
import { elementwise, elementwiseKernels } from './kernels/elementwise.ts';
import { matmul } from './kernels/matmul.ts';
import { reduce, softmax } from './kernels/reduce.ts';
import { accepts, type GpuPolicy } from './policy.ts';
import type { KernelRunner } from './runtime.ts';

/** Name under which the backend registers. @example getBackend().name === GPU_BACKEND // after useGpu() */
export const GPU_BACKEND = 'gpu';

/**
 * A backend running on `runner`'s gpu.js instance.
 * @example registerBackend(makeGpuBackend(runner, { cpuHandoffSize: 4096 })); setBackend('gpu');
 */
/**
 * The gpu backend, with the helper that kernels registered from other packages build on.
 * @example
 * const gpu = getBackend() as GpuBackend;
 */
export interface GpuBackend extends Backend {
  /**
   * out[i] = expr(inputs at i) on the GPU, for same-shape views; `expr` gets each input's value as
   * a GLSL-safe expression. `name` keys the compiled-kernel cache.
   * @example backend.elementwise('axpb', ([x, b]) => `2.0 * ${x} + ${b}`, [x, b], 'float32')
   */
  elementwise(name: string, expr: (values: string[]) => string, inputs: readonly Tensor[], dtype: DType): Tensor;
}

export function makeGpuBackend(runner: KernelRunner, policy: GpuPolicy): GpuBackend {
  type Dims = { dims: readonly number[]; dtype: DType };
  const kernels: Record<string, Kernel> = {
    ...elementwiseKernels(runner),
    matmul: ([a, b], { dtype }: { dtype: DType }) => matmul(runner, a, b, dtype),
    sum: ([x], { dims, dtype }: Dims) => reduce(runner, 'sum', x, dims, dtype),
    max: ([x], { dims, dtype }: Dims) => reduce(runner, 'max', x, dims, dtype),
    min: ([x], { dims, dtype }: Dims) => reduce(runner, 'min', x, dims, dtype),
    softmax: ([x], { dim }: { dim: number }) => softmax(runner, false, x, dim),
    logSoftmax: ([x], { dim }: { dim: number }) => softmax(runner, true, x, dim),
  };
  return {
    name: GPU_BACKEND,
    kernels,
    accepts: (kernel, inputs, attrs) => accepts(policy, kernel, inputs, attrs),
    elementwise: (name, expr, inputs, dtype) => elementwise(runner, name, expr, inputs, dtype),
  };
}
