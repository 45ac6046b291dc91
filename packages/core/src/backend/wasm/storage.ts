// Tensors of the wasm backend live in its memory: a WasmStorage is CPU memory (device 'cpu'), so
// every CPU kernel and in-place update reads and writes it through a typed-array view, with no copy.
// It is freed by dispose()/tidy(), or, as a backstop, when the tensor is garbage-collected.
// NOTE: the view is rebuilt whenever the memory has grown: a grown shared memory has a new, longer
// SharedArrayBuffer (the old one keeps its length), and a grown unshared one detaches the old buffer.
import { type DType, type TypedArray } from '../../dtype.ts';
import { CpuStorage } from '../../storage.ts';
import type { Heap } from './heap.ts';

const VIEW: Record<DType, new (b: ArrayBufferLike, offset: number, length: number) => TypedArray> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array,
};
export const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Frees the block of a WasmStorage that was dropped without dispose(). */
const backstop = new FinalizationRegistry<{ heap: Heap; ptr: number }>(({ heap, ptr }) => heap.release(ptr, true));

/**
 * A tensor's values in the wasm backend's WebAssembly.Memory (a CpuStorage whose typed array is a view of the
 * heap), freed by dispose() or, as a backstop, when garbage-collected.
 * @example
 * x.storage instanceof WasmStorage // true for tensors the wasm backend made
 */
export class WasmStorage extends CpuStorage {
  private view: TypedArray;

  constructor(
    readonly heap: Heap,
    readonly ptr: number,
    dtype: DType,
    private readonly length: number,
  ) {
    const view = new VIEW[dtype](heap.buffer, ptr, length);
    super(view, dtype);
    this.view = view;
    backstop.register(this, { heap, ptr }, this);
  }

  /** A fresh block of `length` elements (contents arbitrary). */
  static alloc(heap: Heap, dtype: DType, length: number, who?: string): WasmStorage {
    return new WasmStorage(heap, heap.alloc(Math.max(1, length) * BYTES[dtype], who), dtype, length);
  }

  override get data(): TypedArray {
    if (this.view.buffer !== this.heap.buffer) this.view = new VIEW[this.dtype](this.heap.buffer, this.ptr, this.length);
    return this.view;
  }
  override get size(): number {
    return this.length;
  }
  override read(): TypedArray {
    return this.data;
  }
  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    backstop.unregister(this);
    this.heap.release(this.ptr);
  }
}
