// Finds Wedge's wasm backend for the bench (registered by @wedge/core when WebAssembly SIMD is
// there), or says why it is absent ("not built"), so the tables print a column that says so.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './harness.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
interface WedgeWasm {
  /** Make wasm the active backend on `threads` threads; returns a line describing it. */
  use(threads: number): string;
}

export async function loadWedgeWasm(): Promise<WedgeWasm | string> {
  // NOTE: read through `any` so the bench typechecks at commits before the backend existed
  const core: any = await import('@wedge/core');
  const separate = join(REPO, 'packages/wasm/src/index.ts'); // if it ever moves to its own package
  if (!core.listBackends().includes('wasm') && existsSync(separate)) await import(pathToFileURL(separate).href);
  if (!core.listBackends().includes('wasm')) {
    const info = typeof core.wasmInfo === 'function' ? core.wasmInfo() : undefined;
    return info ? `not available: ${info.reason}` : 'not built: no wasm backend at this commit';
  }
  return {
    use(threads: number): string {
      core.setBackend('wasm');
      core.setNumThreads(threads);
      const actual = core.getNumThreads();
      const bytes = typeof core.wasmInfo === 'function' ? `, ${core.wasmInfo().kernelBytes} bytes of generated kernels` : '';
      return `wasm backend (WebAssembly SIMD), ${actual} thread${actual === 1 ? '' : 's'}${bytes}`;
    },
  };
}
