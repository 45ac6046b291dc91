// The wasm heap: one WebAssembly.Memory (shared between threads where SharedArrayBuffer exists) and
// an allocator with reuse. Blocks are rounded up to size classes (four per power of two, so at most
// 25% slack) and a freed block goes on its class's free list, where the next request of that class
// takes it: a training loop that makes the same tensors every step stops growing after its first.
// Memory only grows (wasm cannot shrink); wasm32 stops at 4 GiB.
import { WedgeError } from '../../errors.ts';

const PAGE = 65536;
/** wasm32's limit: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;
export const MAX_BYTES = MAX_PAGES * PAGE;
const ALIGN = 16;

/**
 * What wasmMemory() reports about the wasm backend's heap: bytes in use, the memory's size, and block counts.
 * @example
 * const { bytesInUse } = wasmMemory();
 */
export interface WasmMemoryInfo {
  /** Bytes in live blocks (rounded to their size class). */
  bytesInUse: number;
  /** Size of the WebAssembly.Memory. */
  bytesReserved: number;
  /** Most bytes in use at once. */
  peakBytesInUse: number;
  /** Live blocks (tensors, and a kernel's scratch while it runs). */
  liveBlocks: number;
  /** Bytes sitting on free lists, ready for reuse. */
  bytesFree: number;
  allocations: number;
  frees: number;
  /** Blocks freed by the FinalizationRegistry backstop (tensors dropped without dispose/tidy). */
  freedByGc: number;
  shared: boolean;
}

/** The size class of a request: 16-byte aligned, then rounded to 1, 1.25, 1.5 or 1.75 × 2^k. */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 256) return b;
  const quarter = 2 ** (Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / quarter) * quarter;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** Next unused byte (everything below is a block, live or free). */
  private top = ALIGN; // address 0 stays unused so that a null pointer is never a block
  private readonly free = new Map<number, number[]>();
  private readonly sizeOf = new Map<number, number>();
  private stats = { bytesInUse: 0, peakBytesInUse: 0, allocations: 0, frees: 0, freedByGc: 0, bytesFree: 0 };

  constructor(shared: boolean, initialPages = 256) {
    this.shared = shared;
    this.memory = shared
      ? new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial: initialPages });
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** Whether `bytes` more could still be allocated under wasm32's 4 GiB. */
  fits(bytes: number): boolean {
    return this.top + sizeClass(bytes) <= MAX_BYTES - PAGE;
  }

  /** A block of at least `bytes` bytes, 16-byte aligned; its contents are arbitrary. */
  alloc(bytes: number, who = 'wasm'): number {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let ptr: number;
    if (list && list.length > 0) {
      ptr = list.pop()!;
      this.stats.bytesFree -= size;
    } else {
      if (this.top + size > MAX_BYTES - PAGE) {
        throw new WedgeError(
          `${who}: needs ${size} bytes of wasm memory with ${this.top} in use or reserved; wasm32 memory stops at 4 GiB. ` +
            `Free tensors with dispose()/tidy(), or run this on the JS backend: setBackend('cpu')`,
        );
      }
      ptr = this.top;
      this.top += size;
      const need = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
      if (need > 0) {
        const have = this.memory.buffer.byteLength / PAGE;
        // grow by at least half again, so that a growing workload grows O(log n) times
        this.memory.grow(Math.min(MAX_PAGES - have, Math.max(need, Math.ceil(have / 2))));
      }
    }
    this.sizeOf.set(ptr, size);
    this.stats.allocations++;
    this.stats.bytesInUse += size;
    if (this.stats.bytesInUse > this.stats.peakBytesInUse) this.stats.peakBytesInUse = this.stats.bytesInUse;
    return ptr;
  }

  /** Return a block to its free list. */
  release(ptr: number, byGc = false): void {
    const size = this.sizeOf.get(ptr);
    if (size === undefined) throw new WedgeError(`wasm heap: free of ${ptr}, which is not a live block`);
    this.sizeOf.delete(ptr);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
    this.stats.frees++;
    if (byGc) this.stats.freedByGc++;
    this.stats.bytesInUse -= size;
    this.stats.bytesFree += size;
  }

  info(): WasmMemoryInfo {
    return {
      bytesInUse: this.stats.bytesInUse,
      bytesReserved: this.memory.buffer.byteLength,
      peakBytesInUse: this.stats.peakBytesInUse,
      liveBlocks: this.sizeOf.size,
      bytesFree: this.stats.bytesFree,
      allocations: this.stats.allocations,
      frees: this.stats.frees,
      freedByGc: this.stats.freedByGc,
      shared: this.shared,
    };
  }
}
