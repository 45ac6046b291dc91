// When the GPU pays: which calls the gpu backend takes, and which it hands back to the CPU.
// Like TensorFlow.js's CPU hand-off (WEBGL_CPU_FORWARD): a call whose inputs all live on the CPU
// and are small runs on the CPU, since an upload, a draw and a later download cost more than the
// arithmetic. A call with any input already on the GPU stays there, so a pipeline never bounces.
import type { Tensor } from '@wedge/core';
import { MAX_INDEX } from './codegen.ts';
import { GpuStorage } from './storage.ts';

/**
 * When the GPU backend takes a call: `cpuHandoffSize`, the element count under which calls whose inputs are all on
 * the CPU stay there.
 * @example
 * useGpu({ cpuHandoffSize: 0 }) // every supported call on the GPU
 */
export interface GpuPolicy {
  /**
   * Calls whose inputs are all on the CPU run on the CPU when the largest input and the output
   * have fewer elements than this; matmul compares its work M·N·K with 64× this (a 64×64×64
   * product at the default). 0 sends everything to the GPU.
   */
  cpuHandoffSize: number;
}

/**
 * Default hand-off: 4096 elements, a 64×64 matrix.
 * @example
 * useGpu({ cpuHandoffSize: DEFAULT_POLICY.cpuHandoffSize * 4 })
 */
export const DEFAULT_POLICY: GpuPolicy = { cpuHandoffSize: 4096 };

/** float32 lives on the GPU as is and bool as 0/1; float64 and int32 stay on the CPU (exactness). */
const GPU_DTYPES = new Set(['float32', 'bool']);

/** Number of output elements each lowered kernel makes. */
function outputSize(kernel: string, inputs: readonly Tensor[], attrs: any): number {
  const x = inputs[0];
  switch (kernel) {
    case 'matmul': {
      const b = inputs[1];
      return (x.size / x.shape[x.ndim - 1]) * b.shape[b.ndim - 1];
    }
    case 'sum':
    case 'max':
    case 'min':
      return x.shape.reduce((n, d, i) => (attrs.dims.includes(i) ? n : n * d), 1);
    default:
      return x.size;
  }
}

/**
 * Whether the gpu backend should run `kernel` on `inputs`: supported dtypes, sizes the float32
 * index arithmetic handles exactly, and (all-CPU inputs only) enough work to pay for the trip.
 */
export function accepts(policy: GpuPolicy, kernel: string, inputs: readonly Tensor[], attrs: any): boolean {
  if (inputs.length === 0) return false;
  const dtype: string | undefined = attrs?.dtype;
  if (dtype !== undefined && !GPU_DTYPES.has(dtype)) return false;
  if (!inputs.every((t) => GPU_DTYPES.has(t.dtype) && t.storage.size > 0 && t.storage.size < MAX_INDEX)) return false;
  const out = outputSize(kernel, inputs, attrs);
  if (out === 0 || out >= MAX_INDEX) return false;
  if (inputs.some((t) => t.storage instanceof GpuStorage)) return true;
  const threshold = policy.cpuHandoffSize;
  if (kernel === 'matmul') return out * inputs[0].shape[inputs[0].ndim - 1] >= 64 * threshold; // M·N·K
  return Math.max(out, ...inputs.map((t) => t.size)) >= threshold;
}
