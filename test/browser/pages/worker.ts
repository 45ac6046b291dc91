// Worker entry: runs the suite the page names and posts back its result.
import { cpuSuite, gpuSuite, wasmSuite } from './suite.ts';

self.onmessage = async (e: MessageEvent<string>) => {
  try {
    self.postMessage({ result: await (e.data === 'gpu' ? gpuSuite() : e.data === 'wasm' ? wasmSuite() : cpuSuite()) });
  } catch (err) {
    self.postMessage({ error: String(err instanceof Error ? err.stack : err) });
  }
};
