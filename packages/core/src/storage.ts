// Storage: the flat buffer a tensor views. The CPU keeps a typed array; other backends (the gpu
// package) bring their own kind and say how to read it back.
import type { DType, TypedArray } from './dtype.ts';

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

export class CpuStorage implements Storage {
  readonly device = 'cpu';
  disposed = false;
  constructor(
    readonly data: TypedArray,
    readonly dtype: DType,
  ) {}
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
