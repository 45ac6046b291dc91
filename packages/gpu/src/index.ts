/**
 * A GPU backend through gpu.js: WebGL2 in browsers, headless GL in Node, tensors kept on the GPU between kernels.
 * @module @wedge/gpu
 */
// @wedge/gpu: a GPU backend for Wedge through gpu.js. useGpu() makes it the active backend; tensors
// then stay on the GPU between kernels, and every kernel it lacks runs on the CPU reference.
import { registerBackend, setBackend, getBackend } from '@wedge/core';
import { GPU_BACKEND, makeGpuBackend } from './backend.ts';
import { createGpuContext, defaultMode, isNode, type GpuMode } from './context.ts';
import { DEFAULT_POLICY, type GpuPolicy } from './policy.ts';
import { KernelRunner } from './runtime.ts';

export { GpuStorage, gpuMemory, type GpuMemoryInfo } from './storage.ts';
export { type GpuMode, headlessGlProblem, headlessGlRenderer } from './context.ts';
export { type GpuPolicy, DEFAULT_POLICY } from './policy.ts';
export { GPU_BACKEND, type GpuBackend } from './backend.ts';

/**
 * Options of useGpu(): the gpu.js `mode`, the CPU hand-off size (GpuPolicy), `quiet`.
 * @example
 * useGpu({ mode: 'cpu', cpuHandoffSize: 0, quiet: true })
 */
export interface UseGpuOptions extends Partial<GpuPolicy> {
  /** gpu.js mode: 'headlessgl' in Node and 'webgl2' in a browser by default; 'cpu' runs the kernels as JS. */
  mode?: GpuMode;
  /** Do not print the one-line notice when no GL context can be had. */
  quiet?: boolean;
}

let runner: KernelRunner | null = null;

/**
 * The one line printed when the GPU cannot be used, with the fix for where the code runs: in Node,
 * headless GL (the native `gl` build and an X display); in a browser, WebGL2 in the browser.
 * @example noGpuMessage('this environment has no WebGL2', 'browser') // '[wedge/gpu] no WebGL2 (…); … hardware acceleration …'
 */
export function noGpuMessage(reason: string, where: 'node' | 'browser' = isNode ? 'node' : 'browser'): string {
  if (where === 'browser') {
    return (
      `[wedge/gpu] no WebGL2 (${reason}); staying on the CPU backend. ` +
      `Fix: turn on hardware acceleration in the browser's settings (chrome://gpu shows WebGL's status), ` +
      `or use a browser with WebGL2; in a Web Worker it also needs OffscreenCanvas.`
    );
  }
  return (
    `[wedge/gpu] no GL context (${reason}); staying on the CPU backend. ` +
    `Fix: run scripts/setup-gpu.sh once (outside the Wedge repository: "Headless GL in Node" in @wedge/gpu's README), ` +
    `then run under \`xvfb-run -a\`.`
  );
}

/**
 * Make the GPU backend active. Returns false, prints one line saying why and how to fix it, and
 * keeps the current backend when no GL context can be had (no `gl` build, no X display).
 * Calling it again with the same mode only updates the policy.
 * @example
 * if (useGpu()) console.log('training on', gpuInfo()?.mode);
 * useGpu({ mode: 'cpu', cpuHandoffSize: 0 }); // every lowered kernel through gpu.js's JS path
 */
export function useGpu(options: UseGpuOptions = {}): boolean {
  const mode = options.mode ?? defaultMode();
  const policy: GpuPolicy = { cpuHandoffSize: options.cpuHandoffSize ?? DEFAULT_POLICY.cpuHandoffSize };
  if (runner === null || runner.context.mode !== mode) {
    const made = createGpuContext(mode);
    if (!made.ok) {
      if (!options.quiet) console.warn(noGpuMessage(made.reason));
      return false;
    }
    runner = new KernelRunner(made.context);
  }
  registerBackend(makeGpuBackend(runner, policy));
  setBackend(GPU_BACKEND);
  return true;
}

/**
 * What the GPU backend is running on and how much it has done, or null before useGpu().
 * @example
 * useGpu(); console.log(gpuInfo()); // { mode: 'webgl2', active: true, compiledKernels: 12, … }
 */
export function gpuInfo(): { mode: GpuMode; active: boolean; compiledKernels: number; compiles: number; launches: number } | null {
  if (runner === null) return null;
  return {
    mode: runner.context.mode,
    active: getBackend().name === GPU_BACKEND,
    compiledKernels: runner.cacheSize,
    compiles: runner.compiles,
    launches: runner.launches,
  };
}
