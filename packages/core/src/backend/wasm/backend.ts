// The wasm backend: the JS side of each kernel. It lays the call out in wasm memory (operands that
// live elsewhere are copied in once; row tables and batch offsets go to scratch blocks), splits the
// output between threads, calls the generated code, and returns a tensor that stays in wasm memory.
// Kernels it does not have, dtypes it does not take (int32/bool arithmetic, float64 matmul) and
// calls that would pass wasm32's 4 GiB go down the dispatcher's chain to the JS reference, which
// reads wasm tensors in place (WasmStorage is CPU memory).
import type { DType } from '../../dtype.ts';
import { contiguousStrides, sizeOf } from '../../shape.ts';
import { Tensor } from '../../tensor.ts';
import type { Backend, Kernel } from '../backend.ts';
import { rowStarts, rowsOf } from '../cpu/strided.ts';
import { batchOffsets } from '../cpu/matmul.ts';
import { reduceLayout } from '../cpu/reduce.ts';
import type { CompiledKernels } from './codegen.ts';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS } from './kernels/elementwise.ts';
import { MATH_OPS } from './kernels/math.ts';
import { REDUCE_OPS, type ReduceOp } from './kernels/reduce.ts';
import { MR, matmulScratchBytes } from './kernels/matmul.ts';
import { type FusedExpr, emitFused } from './kernels/fused.ts';
import { ModuleBuilder } from './asm.ts';
import { MAX_PAGES } from './heap.ts';
import type { Heap } from './heap.ts';
import { BYTES, WasmStorage } from './storage.ts';
import { MAX_CHUNKS, type ThreadPool } from './threads.ts';

/** Below this much work (elements, or multiply-adds for matmul) a call runs on one thread. */
const PARALLEL_ELEMENTS = 1 << 15;
const PARALLEL_MACS = 1 << 17;

export interface WasmEngine {
  readonly heap: Heap;
  readonly pool: ThreadPool | null;
  readonly kernels: CompiledKernels;
  readonly fns: readonly ((...args: number[]) => void)[];
}

const isFloat = (d: DType): d is 'float32' | 'float64' => d === 'float32' || d === 'float64';

/**
 * The wasm backend, with the helpers that kernels registered from other packages build on.
 * @example
 * const wasm = getCpuEngine() as WasmBackend;
 */
export interface WasmBackend extends Backend {
  /**
   * out = expr(inputs) elementwise over same-shape views, computed in float64 and rounded once into
   * `dtype`, written into `into` (a view of a wasm tensor made by `empty`) or a fresh contiguous
   * tensor. Compiled once per name and dtype (into a module of its own, run on the calling thread).
   * @example wasm.elementwise('axpb', ([x, b], { add, mul, c }) => add(mul(c(2), x), b), [x, b], 'float32')
   */
  elementwise(name: string, expr: FusedExpr, inputs: readonly Tensor[], dtype: DType, into?: Tensor): Tensor;
  /** A contiguous wasm tensor with arbitrary contents, to write into with `elementwise`. */
  empty(shape: readonly number[], dtype: DType): Tensor;
}

export function makeWasmBackend(engine: WasmEngine): WasmBackend {
  const { heap, pool, fns } = engine;
  const fnIndex = new Map(engine.kernels.names.map((n, i) => [n, i]));

  /** Blocks a call allocated for itself, freed when it returns. */
  let temps: number[] = [];
  const temp = (bytes: number): number => {
    const p = heap.alloc(bytes, 'wasm kernel');
    temps.push(p);
    return p;
  };
  const freeTemps = (): void => {
    for (const p of temps) heap.release(p);
    temps = [];
  };
  const i32Block = (values: ArrayLike<number>): number => {
    const p = temp(4 * values.length);
    new Int32Array(heap.buffer, p, values.length).set(values);
    return p;
  };
  /** Byte address of element 0 of t's storage, copying the storage in when it lives elsewhere. */
  const baseOf = (t: Tensor): number => {
    const s = t.storage;
    if (s instanceof WasmStorage && s.heap === heap) return s.ptr;
    const data = s.read();
    const p = temp(data.byteLength);
    new Uint8Array(heap.buffer, p, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return p;
  };
  /** Chunks to cut a call into: one on one thread, else a few per thread (so that a busy thread's share is taken by the others). */
  const chunksFor = (work: number, threshold: number): number =>
    pool && pool.threads > 1 && work >= threshold ? Math.min(MAX_CHUNKS, 4 * pool.threads) : 1;

  /** Items [0, count) cut into at most `chunks` equal runs (the last shorter): one part per run, `args(lo, hi)`. */
  const split = <T = number[]>(count: number, chunks: number, args: (lo: number, hi: number) => T): T[] => {
    const per = Math.ceil(count / Math.max(1, Math.min(chunks, count)));
    const parts: T[] = [];
    for (let lo = 0; lo < count; lo += per) parts.push(args(lo, Math.min(count, lo + per)));
    return parts;
  };

  /**
   * Run `name` on every chunk (argument list). With `scratch`, argument `scratch.arg` of every chunk
   * becomes a block of `scratch.bytes` of the thread running it.
   */
  const call = (name: string, chunks: number[][], scratch?: { arg: number; bytes: number }): void => {
    const i = fnIndex.get(name)!;
    const threads = pool && chunks.length > 1 ? pool.threads : 1;
    const stride = scratch ? Math.ceil(scratch.bytes / 16) * 16 : 0;
    const spec = scratch ? { arg: scratch.arg, base: temp(stride * threads), stride } : undefined;
    if (threads === 1 || !pool) {
      for (const args of chunks) {
        if (spec) args[spec.arg] = spec.base;
        fns[i](...args);
      }
    } else {
      pool.run(i, chunks, spec);
    }
  };
  /** Make the output, run `body`, free the scratch even if it throws. */
  const withOutput = (dtype: DType, shape: readonly number[], body: (out: WasmStorage) => void): Tensor => {
    const out = WasmStorage.alloc(heap, dtype, sizeOf(shape), 'wasm kernel');
    try {
      body(out);
    } catch (e) {
      out.dispose();
      throw e;
    } finally {
      freeTemps();
    }
    return new Tensor(out, [...shape]);
  };

  /**
   * Rows of same-shape views (see rowsOf), split into parts: whole rows per part, or, for a single
   * long row, pieces of it. Each part gets its own row tables, so parts may differ in row length.
   */
  function rowParts(views: readonly Tensor[], chunks: number): { steps: number[]; parts: { outOffset: number; starts: number[]; lo: number; hi: number; n: number }[] } {
    const { n, starts, steps } = rowsOf(views);
    const rows = starts[0].length;
    if (rows === 1 && chunks > 1 && n >= 2 * chunks) {
      const chunk = Math.ceil(n / chunks / 4) * 4;
      const parts = [];
      for (let c = 0; c * chunk < n; c++) {
        const len = Math.min(chunk, n - c * chunk);
        parts.push({ outOffset: c * chunk, starts: views.map((_, k) => i32Block([starts[k][0] + c * chunk * steps[k]])), lo: 0, hi: 1, n: len });
      }
      return { steps, parts };
    }
    const tables = starts.map(i32Block);
    return { steps, parts: split(rows, chunks, (lo, hi) => ({ outOffset: 0, starts: tables, lo, hi, n })) };
  }

  /** An elementwise kernel `fn` over same-shape views into a fresh contiguous output. */
  function elementwise(fn: string, views: readonly Tensor[], dtype: DType): Tensor {
    return withOutput(dtype, views[0].shape, (out) => {
      if (views[0].size === 0) return;
      const bytes = BYTES[dtype];
      const bases = views.map(baseOf);
      const { steps, parts } = rowParts(views, chunksFor(views[0].size, PARALLEL_ELEMENTS));
      call(fn, parts.map((p) => [out.ptr + p.outOffset * bytes, ...bases, ...p.starts, p.lo, p.hi, p.n, ...steps]));
    });
  }

  const kernels: Record<string, Kernel> = {};
  for (const op of Object.keys(BINARY_OPS)) {
    kernels[op] = ([a, b], { dtype }: { dtype: DType }) => elementwise(`bin_${op}_${dtype}`, [a, b], dtype);
  }
  for (const op of Object.keys(UNARY_OPS)) {
    if (op === 'copy') continue;
    kernels[op] = ([x], { dtype }: { dtype: DType }) => elementwise(`un_${op}_${dtype}`, [x], dtype);
  }
  // int32 has float32's width: the copy moves bits, never does arithmetic on them
  kernels.contiguous = ([x]) =>
    elementwise(x.dtype === 'bool' ? 'copy_u8' : `un_copy_${x.dtype === 'float64' ? 'float64' : 'float32'}`, [x], x.dtype);

  // comparisons: float32, float64 or int32 operands, a bool out
  for (const op of COMPARE_OPS) kernels[op] = ([a, b]) => elementwise(`cmp_${op}_${a.dtype}`, [a, b], 'bool');

  kernels.where = ([cond, a, b], { dtype }: { dtype: DType }) => elementwise(`where_${dtype}`, [cond, a, b], dtype);

  const reduce = (op: ReduceOp): Kernel => ([x], { dims }: { dims: readonly number[] }) => {
    const dtype = x.dtype;
    const { outShape, outerStarts, blockRows, n, step: sk } = reduceLayout(x, dims);
    return withOutput(op === 'argmax' || op === 'argmin' ? 'int32' : dtype, outShape, (out) => {
      const outer = sizeOf(outShape);
      const base = baseOf(x);
      const os = i32Block(outerStarts);
      const br = i32Block(blockRows);
      const parts = split(outer, chunksFor(x.size, PARALLEL_ELEMENTS), (lo, hi) => [out.ptr, base, os, lo, hi, br, blockRows.length, n, sk]);
      if (parts.length === 0) return;
      call(`${op}_${dtype}`, parts);
    });
  };
  for (const op of REDUCE_OPS) kernels[op] = reduce(op);

  const softmaxLike = (name: 'softmax' | 'logSoftmax'): Kernel => ([x], { dim }: { dim: number }) => {
    const dtype = x.dtype;
    return withOutput(dtype, x.shape, (out) => {
      const n = x.shape[dim];
      if (x.size === 0 || n === 0) return;
      const others = x.shape.map((_, i) => i).filter((i) => i !== dim);
      const outStrides = contiguousStrides(x.shape);
      const otherShape = [...others.map((i) => x.shape[i]), 1];
      const xs = i32Block(rowStarts(otherShape, [...others.map((i) => x.strides[i]), 0], x.offset));
      const os = i32Block(rowStarts(otherShape, [...others.map((i) => outStrides[i]), 0], 0));
      const rows = x.size / n;
      const base = baseOf(x);
      const parts = split(rows, chunksFor(x.size, PARALLEL_ELEMENTS), (lo, hi) => [out.ptr, os, base, xs, lo, hi, n, outStrides[dim], x.strides[dim], 0]);
      call(`${name}_${dtype}`, parts, { arg: 9, bytes: 8 * n });
    });
  };
  kernels.softmax = softmaxLike('softmax');
  kernels.logSoftmax = softmaxLike('logSoftmax');

  // exp, log, sigmoid: float32 only (float64 stays on the reference, whose Math.exp/Math.log it equals)
  for (const op of Object.keys(MATH_OPS)) kernels[op] = ([x]) => elementwise(`math_${op}_float32`, [x], 'float32');

  kernels.matmul = ([a, b], { dtype }: { dtype: DType }) => {
    const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
    const batch = a.shape.slice(0, -2);
    return withOutput(dtype, [...batch, M, N], (out) => {
      const P = sizeOf(batch);
      if (P === 0 || M === 0 || N === 0) return;
      const ao = i32Block(batchOffsets(a)); // element offsets from the storage's start
      const bo = i32Block(batchOffsets(b));
      const [aBase, bBase] = [baseOf(a), baseOf(b)];
      const [ars, acs] = a.strides.slice(-2);
      const [brs, bcs] = b.strides.slice(-2);
      const chunks = chunksFor(P * M * N * K, PARALLEL_MACS);
      const args = (batchLo: number, batchHi: number, rowLo: number, rowHi: number): number[] =>
        [aBase, bBase, out.ptr, ao, bo, batchLo, batchHi, rowLo, rowHi, M, K, N, ars, acs, brs, bcs, 0];
      // every chunk packs all of B once per batch matrix: rows (in panels of MR) are split only when batches run out
      const parts = P >= chunks
        ? split(P, chunks, (lo, hi) => args(lo, hi, 0, M))
        : split(Math.ceil(M / MR), chunks, (lo, hi) => args(0, P, lo * MR, Math.min(M, hi * MR)));
      call('matmul_f32', parts, { arg: 16, bytes: matmulScratchBytes(K, N) });
    });
  };

  /**
   * t itself when it is contiguous, else a contiguous wasm copy pushed onto `copies` (the caller
   * disposes them). Make every copy before taking any address (baseOf): the copy's own call frees
   * the scratch blocks.
   */
  const packed = (t: Tensor, copies: Tensor[]): Tensor => {
    if (t.isContiguous()) return t;
    const c = kernels.contiguous([t], {}, backend);
    copies.push(c);
    return c;
  };
  /** `body` over contiguous versions of `ts` (see packed); the copies are disposed when it returns or throws. */
  const withPacked = (ts: readonly Tensor[], body: (packedTs: Tensor[]) => Tensor): Tensor => {
    const copies: Tensor[] = [];
    try {
      return body(ts.map((t) => packed(t, copies)));
    } finally {
      copies.forEach((t) => t.dispose());
    }
  };
  /** Byte address of element 0 of a contiguous t. */
  const addr = (t: Tensor): number => baseOf(t) + t.offset * BYTES[t.dtype];

  kernels.indexSelect = ([x, index], { dim }: { dim: number }) => {
    const outShape = [...x.shape];
    outShape[dim] = index.size;
    return withPacked([x, index], ([xc, ic]) => withOutput(x.dtype, outShape, (out) => {
      const src = addr(xc), ids = addr(ic);
      const outer = sizeOf(x.shape.slice(0, dim)), inner = sizeOf(x.shape.slice(dim + 1));
      const slices = outer * index.size;
      if (slices === 0 || inner === 0) return;
      const words = (inner * BYTES[x.dtype]) / 4;
      call('index_select', split(slices, chunksFor(slices * inner, PARALLEL_ELEMENTS), (lo, hi) => [out.ptr, src, ids, lo, hi, index.size, x.shape[dim], words]));
    }));
  };

  kernels.indexAdd = ([index, src], { dim, shape, dtype }: { dim: number; shape: number[]; dtype: DType }) =>
    withPacked([src, index], ([sc, ic]) => withOutput(dtype, shape, (out) => {
      const s = addr(sc), ids = addr(ic);
      const outer = sizeOf(shape.slice(0, dim)), inner = sizeOf(shape.slice(dim + 1));
      if (sizeOf(shape) === 0) return;
      // columns of the slice per thread: every thread adds in the reference's order for its own outputs
      call(`index_add_${dtype}`, split(inner, chunksFor(src.size, PARALLEL_ELEMENTS), (lo, hi) => [out.ptr, s, ids, outer, index.size, shape[dim], inner, lo, hi]));
    }));

  /** Row starts of a contiguous `index` walked by rows along its last dim, in a tensor of `strides` (dim's coordinate left out). */
  const indexRows = (index: Tensor, strides: readonly number[], offset: number, dim: number): { starts: number; rows: number; n: number; sRow: number; sDim: number } => {
    const nd = index.ndim;
    const starts = rowStarts(index.shape, strides.map((st, d) => (d === dim ? 0 : st)), offset);
    return { starts: i32Block(starts), rows: starts.length, n: index.shape[nd - 1], sRow: dim === nd - 1 ? 0 : strides[nd - 1], sDim: strides[dim] };
  };

  kernels.gather = ([x, index], { dim }: { dim: number }) =>
    withPacked([index], ([ic]) => withOutput(x.dtype, index.shape, (out) => {
      const ids = addr(ic), xb = baseOf(x);
      if (index.size === 0) return;
      const { starts, rows, n, sRow, sDim } = indexRows(index, x.strides, x.offset, dim);
      call(`gather_${BYTES[x.dtype] * 8}`, split(rows, chunksFor(index.size, PARALLEL_ELEMENTS), (lo, hi) => [out.ptr, xb, ids, starts, lo, hi, n, sRow, sDim]));
    }));

  // one thread: two index elements that differ only along dim add into the same output
  kernels.scatterAdd = ([index, src], { dim, shape, dtype }: { dim: number; shape: number[]; dtype: DType }) =>
    withPacked([src, index], ([sc, ic]) => withOutput(dtype, shape, (out) => {
      const s = addr(sc), ids = addr(ic);
      const size = sizeOf(shape);
      if (size === 0) return;
      if (index.size === 0) return call(`scatter_add_${dtype}`, [[out.ptr, size, s, ids, 0, 0, 0, 0, 0]]);
      const { starts, rows, n, sRow, sDim } = indexRows(index, contiguousStrides(shape), 0, dim);
      call(`scatter_add_${dtype}`, [[out.ptr, size, s, ids, starts, rows, n, sRow, sDim]]);
    }));

  /** Which calls this backend takes: float dtypes it has code for, within wasm32's 4 GiB. */
  const accepts = (kernel: string, inputs: readonly Tensor[], attrs: any): boolean => {
    const dtype: DType = attrs?.dtype ?? inputs[0]?.dtype;
    if (kernel === 'contiguous') {
      // every dtype: a copy
    } else if ((COMPARE_OPS as readonly string[]).includes(kernel)) {
      if (inputs[0].dtype === 'bool' || inputs[1].dtype !== inputs[0].dtype) return false;
    } else if (kernel === 'indexSelect') {
      if (inputs[0].dtype === 'bool' || inputs[1].dtype !== 'int32') return false;
    } else if (kernel === 'indexAdd' || kernel === 'scatterAdd') {
      if (!isFloat(dtype) || inputs[0].dtype !== 'int32' || inputs[1].dtype !== dtype || inputs[0].ndim === 0) return false;
    } else if (kernel === 'gather') {
      if (inputs[0].dtype === 'bool' || inputs[1].dtype !== 'int32' || inputs[1].ndim === 0) return false;
    } else if (kernel === 'where') {
      if (!isFloat(dtype) || inputs[0].dtype !== 'bool' || inputs[1].dtype !== dtype || inputs[2].dtype !== dtype) return false;
    } else {
      if (!isFloat(dtype) || inputs.some((t) => t.dtype !== dtype)) return false;
      if ((kernel === 'matmul' || kernel in MATH_OPS) && dtype !== 'float32') return false;
    }
    let bytes = 0;
    for (const t of inputs) if (!(t.storage instanceof WasmStorage)) bytes += t.storage.size * BYTES[t.dtype];
    const outSize = kernel === 'indexAdd' || kernel === 'scatterAdd' ? sizeOf(attrs.shape)
      : kernel === 'gather' ? inputs[1].size
      : kernel === 'indexSelect' ? (inputs[0].size / Math.max(1, inputs[0].shape[attrs.dim])) * inputs[1].size
      : inputs[0].size;
    bytes += outSize * BYTES[dtype] * (kernel === 'matmul' || kernel === 'gather' || kernel === 'indexSelect' || kernel === 'indexAdd' || kernel === 'scatterAdd' ? 2 : 1);
    return heap.fits(bytes);
  };

  /** Fused kernels declared by other packages, compiled on first use. */
  const fused = new Map<string, (...args: number[]) => void>();
  const fusedKernel = (name: string, arity: number, dtype: 'float32' | 'float64', expr: FusedExpr): ((...args: number[]) => void) => {
    const key = `${name}/${dtype}/${arity}`;
    let fn = fused.get(key);
    if (!fn) {
      const m = new ModuleBuilder({ shared: heap.shared, maxPages: MAX_PAGES });
      emitFused(m, name, `out = ${name}(${arity} strided ${dtype} operands), float64 arithmetic, one rounding`, arity, dtype, expr);
      if (typeof process !== 'undefined' && process.env?.WEDGE_DUMP_KERNELS) console.error(m.text());
      const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory: heap.memory } });
      fn = instance.exports[`fused_${name}`] as (...args: number[]) => void;
      fused.set(key, fn);
    }
    return fn;
  };

  const empty = (shape: readonly number[], dtype: DType): Tensor => new Tensor(WasmStorage.alloc(heap, dtype, sizeOf(shape), 'wasm kernel'), [...shape]);

  const elementwiseFused = (name: string, expr: FusedExpr, inputs: readonly Tensor[], dtype: DType, into?: Tensor): Tensor => {
    if (!isFloat(dtype)) throw new Error(`wasm elementwise ${name}: float dtypes only, got ${dtype}`);
    const out = into ?? empty(inputs[0].shape, dtype);
    try {
      const fn = fusedKernel(name, inputs.length, dtype, expr);
      const views = [out, ...inputs];
      const { n, starts, steps } = rowsOf(views);
      const bases = views.map(baseOf);
      const tables = starts.map(i32Block);
      if (views[0].size > 0) fn(bases[0], tables[0], ...bases.slice(1), ...tables.slice(1), 0, starts[0].length, n, ...steps);
    } finally {
      freeTemps();
    }
    return out;
  };

  // zeros(shape) with src written into [..., start::step, ...] along dim: a zero fill, then a copy
  // into the strided view (through float64: every float32/float64 value round-trips exactly)
  kernels.sliceScatter = ([src], { shape, dim, start, step }: { shape: number[]; dim: number; start: number; step: number }) => {
    const out = empty(shape, src.dtype);
    try {
      elementwiseFused('zero', (_x, { c }) => c(0), [], src.dtype, out);
      const strides = contiguousStrides(shape);
      const viewStrides = strides.map((st, d) => (d === dim ? st * step : st));
      elementwiseFused('copy', ([x]) => x, [src], src.dtype, new Tensor(out.storage, [...src.shape], viewStrides, start * strides[dim]));
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  };

  const backend: WasmBackend = { name: 'wasm', kernels, accepts, elementwise: elementwiseFused, empty };
  return backend;
}
