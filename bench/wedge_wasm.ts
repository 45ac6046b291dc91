// Finds the @wedge/wasm backend for the bench, or says why it is absent ("not built"), so the
// tables print a column that says so instead of failing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setBackend } from '@wedge/core';
import { REPO } from './harness.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
interface WedgeWasm {
  /** Make wasm the active backend on `threads` threads; returns a line describing it. */
  use(threads: number): Promise<string>;
}

export async function loadWedgeWasm(): Promise<WedgeWasm | string> {
  const entry = join(REPO, 'packages/wasm/src/index.ts');
  if (!existsSync(entry)) return 'not built: packages/wasm does not exist at this commit';
  const mod: any = await import(pathToFileURL(entry).href);
  return {
    async use(threads: number): Promise<string> {
      if (typeof mod.ready === 'function') await mod.ready();
      setBackend('wasm');
      if (typeof mod.setNumThreads !== 'function') throw new Error('bench: @wedge/wasm exports no setNumThreads');
      await mod.setNumThreads(threads);
      const actual = typeof mod.getNumThreads === 'function' ? mod.getNumThreads() : threads;
      return `@wedge/wasm, ${actual} thread${actual === 1 ? '' : 's'}`;
    },
  };
}
