/**
 * N-d strided tensors, reverse-mode autodiff, nn modules, PyTorch's optimizers, a seeded generator and safetensors checkpoints; runs in Node, browsers and Web Workers.
 * @module @wedge/core
 */
// @wedge/core: the public API. Internals (kernels, the dispatcher's plumbing) stay unexported
// except what a backend package needs.
export { Tensor, type TensorLike, type NestedArray } from './tensor.ts';
export { type DType, type TypedArray, promoteTypes, isFloat } from './dtype.ts';
export { WedgeError, fmtShape } from './errors.ts';
export { type Shape, broadcastShapes, sizeOf, contiguousStrides, unravelIndex } from './shape.ts';
export { type Storage, CpuStorage } from './storage.ts';

export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, tril, triu,
  type TensorOptions,
} from './creation.ts';
export {
  Generator, defaultGenerator, manualSeed, rand, randn, randint, randperm, uniform, normal,
  type RandomOptions, type GeneratorState,
} from './random.ts';

export {
  add, sub, mul, div, pow, maximum, minimum, neg, exp, log, sqrt, abs, tanh, sigmoid, relu, sin, cos, sign,
  square, eq, ne, lt, le, gt, ge, where, maskedFill, cast, broadcastView,
  UNARY_OPS, BINARY_OPS, COMPARISON_OPS, ELEMENTWISE_OPS,
  type UnaryOp, type BinaryOp, type ComparisonOp, type ElementwiseOp, type ElementwiseOpInfo, type Domain,
} from './ops/elementwise.ts';
export { sum, mean, max, min, argmax, argmin, sumToShape } from './ops/reduce.ts';
export {
  reshape, view, flatten, permute, transpose, unsqueeze, squeeze, expand, slice, narrow, split, chunk, cat, stack,
  contiguous, clone,
} from './ops/movement.ts';
export { matmul, outer, einsum } from './ops/linalg.ts';
export { gather, indexSelect } from './ops/indexing.ts';
export { softmax, logSoftmax } from './ops/softmax.ts';
export { defineOp, type OpDef, type SavedContext } from './ops/define.ts';

export { noGrad, enableGrad, isGradEnabled } from './autograd/grad_mode.ts';
export { backward, topologicalOrder, type BackwardOptions } from './autograd/engine.ts';
export type { Node, InputGrads } from './autograd/node.ts';
export { gradcheck, findGradMismatch, type GradcheckOptions, type GradcheckMismatch } from './autograd/gradcheck.ts';
export { toDot } from './autograd/dot.ts';

export { tidy, keep } from './memory.ts';
export { type Backend, type Kernel } from './backend/backend.ts';
export {
  registerBackend, setBackend, getBackend, listBackends, runKernel, logKernels, toCpu, registerKernel, registerKernels,
  setCpuEngine, getCpuEngine, fallbackChain, kernelOf, type KernelLogger,
} from './backend/dispatch.ts';
export { cpuBackend, stridedOffsets, cpuTensor, rowsOf, rowStarts, type Rows } from './backend/cpu/index.ts';
export { allocate } from './dtype.ts';
export {
  setNumThreads, getNumThreads, wasmMemory, wasmInfo, wasmSimdSupported, WasmStorage, type WasmMemoryInfo, type WasmBackend,
  type FusedExpr, type FusedOps, type Expr as WasmExpr,
} from './backend/wasm/index.ts';

// ---- nn, optimizers and checkpoints (issue 3) ----
export { Module, Parameter } from './nn/module.ts';
export { Linear, Embedding } from './nn/linear.ts';
export { crossEntropy, type CrossEntropyOptions } from './nn/loss.ts';
export { kaimingUniformA5, biasUniform, standardNormal, fanIn, type InitOptions } from './nn/init.ts';
export {
  Optimizer, optimizerStateToTensors, optimizerStateFromTensors, type ParamGroup, type OptimizerStateDict,
} from './optim/optimizer.ts';
export { SGD, type SGDOptions } from './optim/sgd.ts';
export { Adam, AdamW, type AdamOptions } from './optim/adam.ts';
// path-based saveSafetensors/loadSafetensors (node:fs) live in the Node-only entry '@wedge/core/node'
export {
  encodeSafetensors, decodeSafetensors,
  type SafetensorsContents, type SafetensorsWriteOptions, type SafetensorsDType,
} from './io/safetensors.ts';
