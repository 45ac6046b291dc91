// Running a generated kernel: turn each input tensor into a kernel argument (a texture already on
// the GPU, a CPU array to upload, or a lone value passed as a uniform), compile once per signature,
// and wrap the output texture as a GpuStorage so that the next kernel reads it without a download.
import { Tensor, type DType } from '@wedge/core';
import type { IKernelRunShortcut } from 'gpu.js';
import type { GpuContext } from './context.ts';
import { HELPER_SOURCES } from './codegen.ts';
import { GpuStorage, noteUpload, type GpuValue } from './storage.ts';

/**
 * One kernel argument. 'tex': a GpuStorage's texture; 'arr': a CPU typed array, uploaded by gpu.js
 * on every call (parameters change between steps, so there is nothing to cache); 'num': a tensor
 * whose elements are all one storage element (a scalar, or a stride-0 broadcast), passed as a float
 * uniform so that `x * 0.5` costs no texture and no recompile when the value changes.
 */
export interface Operand {
  readonly kind: 'tex' | 'arr' | 'num';
  readonly value: GpuValue | number;
  /** Elements in the argument (1 for 'num'). */
  readonly size: number;
  /** Storage offset and strides of the tensor view (ignored for 'num'). */
  readonly offset: number;
  readonly strides: readonly number[];
}

/** How tensor `t` is handed to a kernel (see Operand). */
export function operandOf(t: Tensor): Operand {
  const storage = t.storage;
  if (storage instanceof GpuStorage) {
    return { kind: 'tex', value: storage.gpuValue, size: storage.size, offset: t.offset, strides: t.strides };
  }
  const data = storage.read();
  if (t.size === 1 || t.strides.every((s, d) => s === 0 || t.shape[d] === 1)) {
    return { kind: 'num', value: data[t.offset], size: 1, offset: 0, strides: t.strides.map(() => 0) };
  }
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  noteUpload();
  return { kind: 'arr', value: f32, size: f32.length, offset: t.offset, strides: t.strides };
}

/** The cache key part of an operand: everything baked into the generated source. */
export const operandKey = (o: Operand): string =>
  o.kind === 'num' ? 'num' : `${o.kind}${o.size}@${o.offset}:${o.strides.join(',')}`;

/** Source of a read of operand `k` (named `a${k}`) at the storage offset `offset`. */
export const readOperand = (ops: readonly Operand[], k: number, offset: string): string =>
  ops[k].kind === 'num' ? `a${k}` : `a${k}[${offset}]`;

/** gpu.js instance, its kernels by signature, and what it was asked to run. */
export class KernelRunner {
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  compiles = 0;
  launches = 0;

  constructor(readonly context: GpuContext) {
    for (const src of HELPER_SOURCES) {
      const params = /\(([^)]*)\)/.exec(src)![1].split(',').map((p) => p.trim());
      context.gpu.addFunction(src as never, {
        argumentTypes: Object.fromEntries(params.map((p) => [p, 'Number'])),
        returnType: 'Number',
      } as never);
    }
  }

  /** Number of compiled kernels (one per op and shape/stride signature). */
  get cacheSize(): number {
    return this.kernels.size;
  }

  /**
   * Run the kernel `key` (compiled from `source()` on first use) on `operands`, producing `size`
   * float32 values that become a contiguous tensor of `shape` and `dtype`.
   */
  run(key: string, source: () => string, operands: readonly Operand[], shape: readonly number[], dtype: DType): Tensor {
    let kernel = this.kernels.get(key);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!kernel) {
      kernel = this.context.gpu.createKernel(source(), {
        output: [size],
        pipeline: true,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
      });
      this.kernels.set(key, kernel);
      this.compiles++;
    }
    this.launches++;
    const value = kernel(...(operands.map((o) => o.value) as never[])) as unknown as GpuValue;
    return new Tensor(new GpuStorage(value, dtype, size), [...shape]);
  }
}
