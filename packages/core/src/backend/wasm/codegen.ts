// The wasm backend's module: every kernel emitter run once into one ModuleBuilder, compiled once,
// and instantiated on each thread over the same memory. WEDGE_DUMP_KERNELS=1 prints the module as
// folded WAT (with each kernel's opening comment) when it is built.
import { ModuleBuilder } from './asm.ts';
import { MAX_PAGES } from './heap.ts';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS, emitBinary, emitCompare, emitCopyBytes, emitUnary, emitWhere } from './kernels/elementwise.ts';
import { MATH_OPS, emitMath } from './kernels/math.ts';
import { emitMatmul } from './kernels/matmul.ts';
import { REDUCE_OPS, emitReduce } from './kernels/reduce.ts';
import { emitIndexing } from './kernels/indexing.ts';
import { emitSoftmax } from './kernels/softmax.ts';

export const FLOAT_DTYPES = ['float32', 'float64'] as const;

/** All kernels, in a fixed order (threads call them by index). */
export function buildKernelModule(shared: boolean): ModuleBuilder {
  const m = new ModuleBuilder({ shared, maxPages: MAX_PAGES });
  emitMatmul(m);
  for (const dtype of FLOAT_DTYPES) {
    for (const op of Object.keys(BINARY_OPS)) emitBinary(m, op, dtype);
    for (const op of Object.keys(UNARY_OPS)) emitUnary(m, op, dtype);
    for (const op of REDUCE_OPS) emitReduce(m, op, dtype);
    emitSoftmax(m, dtype);
    emitSoftmax(m, dtype, true);
    emitWhere(m, dtype);
  }
  for (const op of Object.keys(MATH_OPS)) emitMath(m, op);
  emitIndexing(m);
  emitCopyBytes(m);
  for (const dtype of ['float32', 'float64', 'int32'] as const) for (const op of COMPARE_OPS) emitCompare(m, op, dtype);
  return m;
}

export interface CompiledKernels {
  readonly module: WebAssembly.Module;
  /** Function names in export order. */
  readonly names: readonly string[];
  readonly bytes: number;
}

export function compileKernels(shared: boolean): CompiledKernels {
  const m = buildKernelModule(shared);
  const bytes = m.encode();
  if (typeof process !== 'undefined' && process.env?.WEDGE_DUMP_KERNELS) console.error(m.text());
  return { module: new WebAssembly.Module(bytes), names: m.fns.map((f) => f.name), bytes: bytes.length };
}
