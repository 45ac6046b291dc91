// The gpu backend: the kernels it lowers, keyed by the CPU backend's names, and its hand-off policy.
// Every other kernel (indexing, cat, argmax, …) and every declined call runs on the CPU reference,
// which reads GPU inputs through GpuStorage.read().
import type { Backend, DType, Kernel, Tensor } from '@wedge/core';
import { elementwiseKernels } from './kernels/elementwise.ts';
import { matmul } from './kernels/matmul.ts';
import { reduce, softmax } from './kernels/reduce.ts';
import { gramDetScore, type GramDetAttrs } from './kernels/gram_det.ts';
import { accepts, type GpuPolicy } from './policy.ts';
import type { KernelRunner } from './runtime.ts';

/** Name under which the backend registers. */
export const GPU_BACKEND = 'gpu';

/**
 * A backend running on `runner`'s gpu.js instance.
 * @example registerBackend(makeGpuBackend(runner, { cpuHandoffSize: 4096 })); setBackend('gpu');
 */
export function makeGpuBackend(runner: KernelRunner, policy: GpuPolicy): Backend {
  type Dims = { dims: readonly number[]; dtype: DType };
  const kernels: Record<string, Kernel> = {
    ...elementwiseKernels(runner),
    matmul: ([a, b], { dtype }: { dtype: DType }) => matmul(runner, a, b, dtype),
    sum: ([x], { dims, dtype }: Dims) => reduce(runner, 'sum', x, dims, dtype),
    max: ([x], { dims, dtype }: Dims) => reduce(runner, 'max', x, dims, dtype),
    min: ([x], { dims, dtype }: Dims) => reduce(runner, 'min', x, dims, dtype),
    softmax: ([x], { dim }: { dim: number }) => softmax(runner, false, x, dim),
    logSoftmax: ([x], { dim }: { dim: number }) => softmax(runner, true, x, dim),
    gramDetScore: ([q, k, r]: readonly Tensor[], attrs: GramDetAttrs) => gramDetScore(runner, q, k, r, attrs),
  };
  return {
    name: GPU_BACKEND,
    kernels,
    accepts: (kernel, inputs, attrs) => accepts(policy, kernel, inputs, attrs),
  };
}
