// The CPU backend: every kernel, in plain loops over typed arrays, one file per kernel family. This
// is the reference the other backends must match. Kernels of other packages (the models' fused
// `rope` and `gramDet`) join it through registerKernel (see ../dispatch.ts).
import type { Backend, Kernel } from '../backend.ts';
import { BINARY_FNS, UNARY_FNS, binaryKernel, contiguous, unaryKernel, where } from './elementwise.ts';
import { gather, indexAdd, indexSelect, scatterAdd } from './indexing.ts';
import { cat, sliceScatter } from './joining.ts';
import { matmulKernel } from './matmul.ts';
import { argReduce, nanMax, nanMin, reduceKernel } from './reduce.ts';
import { softmaxKernel } from './softmax.ts';

export { cpuTensor, stridedOffsets, rowsOf, rowStarts, type Rows } from './strided.ts';
export { UNARY_FNS, BINARY_FNS } from './elementwise.ts';

const kernels: Record<string, Kernel> = {
  where,
  contiguous,
  matmul: matmulKernel,
  sum: reduceKernel(0, (acc, v) => acc + v, undefined, true),
  max: reduceKernel(-Infinity, nanMax),
  min: reduceKernel(Infinity, nanMin),
  argmax: argReduce((v, best) => v > best),
  argmin: argReduce((v, best) => v < best),
  softmax: softmaxKernel(false),
  logSoftmax: softmaxKernel(true),
  indexSelect,
  indexAdd,
  gather,
  scatterAdd,
  cat,
  sliceScatter,
};
for (const name of Object.keys(UNARY_FNS) as (keyof typeof UNARY_FNS)[]) kernels[name] = unaryKernel(name);
for (const name of Object.keys(BINARY_FNS) as (keyof typeof BINARY_FNS)[]) kernels[name] = binaryKernel(name);

/**
 * The CPU reference backend: every kernel, in plain TypeScript; what other backends are tested against.
 * @example
 * registerBackend(cpuBackend); setBackend('cpu');
 */
export const cpuBackend: Backend = { name: 'cpu', kernels };
