// Storage: the flat buffer a tensor views. The CPU keeps a typed array (on the JS heap, or in the
// wasm backend's memory: WasmStorage is a CpuStorage whose array is a view of that memory); other
// backends (the gpu package) bring their own kind and say how to read it back.
import type { DType, TypedArray } from './dtype.ts';

/**
 * Where a tensor's values live: a typed array on the CPU, a texture on the GPU. Backends implement it.
 * @example
 * const values = x.storage.read(); // the whole buffer, on the CPU
 */
export interface Storage {
  /** 'cpu' for typed arrays; a backend's name otherwise. */
  readonly device: string;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** The whole buffer on the CPU. CPU storage returns its own array (no copy). */
  read(): TypedArray;
  /**
   * Optional: download without blocking the thread, resolving when read() will return at once.
   * Tensor.dataAsync() awaits it where a backend has one.
   */
  readAsync?(): Promise<TypedArray>;
  /** Release device memory. A no-op on the CPU. */
  dispose(): void;
  readonly disposed: boolean;
}

/**
 * Storage over a typed array on the CPU.
 * @example
 * const t = new Tensor(new CpuStorage(new Int32Array([1, 2, 3]), 'int32'), [3]);
 */
export class CpuStorage implements Storage {
  readonly device = 'cpu';
  disposed = false;
  constructor(
    private readonly array: TypedArray,
    readonly dtype: DType,
  ) {}
  /** The typed array itself (no copy); kernels and in-place updates read and write it. */
  get data(): TypedArray {
    return this.array;
  }
  get size(): number {
    return this.data.length;
  }
  read(): TypedArray {
    return this.data;
  }
  dispose(): void {
    this.disposed = true;
  }
}
