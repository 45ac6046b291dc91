// Page entry: runs the suite named in the URL (?suite=cpu|gpu|advice) on the page's main thread,
// or (?worker=1) in a module Web Worker, and leaves the result on globalThis.__result.
import { noGpuMessage, useGpu } from '@wedge/gpu';
import { cpuSuite, gpuSuite, wasmSuite } from './suite.ts';

const params = new URLSearchParams(location.search);
const suite = params.get('suite') ?? 'cpu';
const g = globalThis as { __result?: unknown; __error?: string };

if (params.get('worker')) {
  const worker = new Worker('/worker.js', { type: 'module' });
  worker.onmessage = (e: MessageEvent<{ result?: unknown; error?: string }>) => {
    if (e.data.error) g.__error = e.data.error;
    else g.__result = { ...(e.data.result as object), where: 'worker' };
  };
  worker.onerror = (e) => (g.__error = `worker: ${e.message}`);
  worker.postMessage(suite);
} else {
  const run = async (): Promise<Record<string, unknown>> => {
    if (suite === 'gpu') return gpuSuite();
    if (suite === 'wasm') return wasmSuite();
    if (suite === 'advice') return { message: noGpuMessage('no WebGL2 here'), useGpu: useGpu() };
    return cpuSuite();
  };
  run()
    .then((result) => (g.__result = { ...result, where: 'page' }))
    .catch((e: unknown) => (g.__error = String(e instanceof Error ? e.stack : e)));
}
