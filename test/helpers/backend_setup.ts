// Vitest setup: the whole suite runs once per backend. WEDGE_BACKEND=cpu runs it on the JS
// reference; WEDGE_BACKEND=wasm (the default where WebAssembly SIMD runs) on the wasm engine, with
// the JS reference behind it for the kernels the engine lacks. scripts/test.mjs runs both.
import { getBackend, setBackend, wasmSimdSupported } from '@wedge/core';

const want = process.env.WEDGE_BACKEND ?? (wasmSimdSupported() ? 'wasm' : 'cpu');
setBackend(want);
if (getBackend().name !== want) throw new Error(`[test] WEDGE_BACKEND=${want} but the active backend is ${getBackend().name}`);
