// GpuStorage: a tensor's buffer kept on the GPU as a gpu.js texture (or, in gpu.js's cpu mode, the
// Float32Array a kernel returned). read() downloads once and caches; dispose() frees the texture.
import type { DType, Storage, TypedArray } from '@wedge/core';

/** The part of a gpu.js Texture this package uses. */
export interface GpuTexture {
  readonly size: ArrayLike<number>;
  renderRawOutput(): Float32Array;
  delete(): void;
}

/** What a kernel returned: a texture (GL modes) or the values themselves (gpu.js cpu mode). */
export type GpuValue = GpuTexture | Float32Array;

interface Counters {
  live: number;
  bytes: number;
  created: number;
  freedByGc: number;
  downloads: number;
  uploads: number;
}
const counters: Counters = { live: 0, bytes: 0, created: 0, freedByGc: 0, downloads: 0, uploads: 0 };

/** Count one CPU array handed to a kernel (gpu.js uploads it into a texture for that call). */
export function noteUpload(): void {
  counters.uploads++;
}

/**
 * A backstop, not the plan: a texture whose storage was garbage-collected without dispose() is
 * freed here, and counted in gpuMemory().freedByGc so that a leak is visible. GL memory is not
 * managed by V8, so a program that relies on this can run out of textures long before a GC.
 */
const finalizer = new FinalizationRegistry<{ value: GpuValue; bytes: number }>(({ value, bytes }) => {
  release(value, bytes);
  counters.freedByGc++;
});

function release(value: GpuValue, bytes: number): void {
  if (!(value instanceof Float32Array)) value.delete();
  counters.live--;
  counters.bytes -= bytes;
}

/** Live GPU buffers owned by tensors, for leak checks. @example const { liveTextures, liveBytes } = gpuMemory(); */
export interface GpuMemoryInfo {
  /** Storages (textures) created and not yet disposed. */
  liveTextures: number;
  /** Their size in bytes as float32 values (a texture's padding not counted). */
  liveBytes: number;
  /** Storages ever created. */
  created: number;
  /** Storages that were garbage-collected without dispose(): each one is a missed tidy()/dispose(). */
  freedByGc: number;
  /** Textures read back to the CPU (each storage at most once: reads are cached). */
  downloads: number;
  /** CPU arrays uploaded as kernel inputs (lone values passed as uniforms not counted). */
  uploads: number;
}

/**
 * The GPU buffers that tensors own right now.
 * @example const before = gpuMemory().liveTextures; step(); expect(gpuMemory().liveTextures).toBe(before);
 */
export function gpuMemory(): GpuMemoryInfo {
  return {
    liveTextures: counters.live,
    liveBytes: counters.bytes,
    created: counters.created,
    freedByGc: counters.freedByGc,
    downloads: counters.downloads,
    uploads: counters.uploads,
  };
}

/**
 * A tensor's values on the GPU: a gpu.js texture, downloaded once on first read() and then cached; dispose() frees
 * it.
 * @example
 * const y = matmul(a, b); y.storage instanceof GpuStorage // true after useGpu()
 */
export class GpuStorage implements Storage {
  readonly device = 'gpu';
  private value: GpuValue | null;
  private cache: TypedArray | null = null;
  private readonly bytes: number;

  /** `value` holds `size` float32 values, row-major; bool is stored as 0/1. */
  constructor(
    value: GpuValue,
    readonly dtype: DType,
    readonly size: number,
  ) {
    this.value = value;
    this.bytes = 4 * size;
    counters.live++;
    counters.bytes += this.bytes;
    counters.created++;
    finalizer.register(this, { value, bytes: this.bytes }, this);
  }

  get disposed(): boolean {
    return this.value === null;
  }

  /** The texture (or cpu-mode array) to pass to the next kernel. */
  get gpuValue(): GpuValue {
    if (this.value === null) throw new Error(`GpuStorage: used after dispose() (${this.dtype}, ${this.size} elements)`);
    return this.value;
  }

  /**
   * Download the values (once; later calls return the same array).
   * NOTE: the array is a copy of the texture: writing into it does not reach the GPU.
   */
  read(): TypedArray {
    if (this.cache) return this.cache;
    const value = this.gpuValue;
    const n = this.size;
    counters.downloads++;
    const out = this.dtype === 'bool' ? new Uint8Array(n) : new Float32Array(n);
    if (value instanceof Float32Array) {
      for (let i = 0; i < n; i++) out[i] = this.dtype === 'bool' ? +(value[i] !== 0) : value[i];
    } else {
      // One float per RGBA texel (the red channel): gpu.js's layout for single precision.
      const raw = value.renderRawOutput();
      for (let i = 0; i < n; i++) out[i] = this.dtype === 'bool' ? +(raw[4 * i] !== 0) : raw[4 * i];
    }
    this.cache = out;
    return out;
  }

  dispose(): void {
    if (this.value === null) return;
    finalizer.unregister(this);
    release(this.value, this.bytes);
    this.value = null;
    this.cache = null;
  }
}
