// The gpu.js instance and how it was obtained: headless GL in Node (the native `gl` package plus an
// X display), WebGL2 in a browser, or gpu.js's cpu mode (JavaScript loops; for tests without GL).
import { GPU } from 'gpu.js';

/**
 * gpu.js modes this package runs in. 'cpu' runs the same kernels as JavaScript.
 * @example
 * useGpu({ mode: 'cpu' }) // gpu.js's JavaScript mode, no GL needed
 */
export type GpuMode = 'headlessgl' | 'webgl2' | 'webgl' | 'cpu';

export interface GpuContext {
  readonly gpu: GPU;
  readonly mode: GpuMode;
}

export type ContextResult = { ok: true; context: GpuContext } | { ok: false; reason: string };

/** The bits of Node's `process` this file reads; through globalThis, so no Node types are needed. */
interface NodeProcessLike {
  versions?: { node?: string };
  env: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}
const nodeProcess = (globalThis as { process?: NodeProcessLike }).process;

/** True under Node (and tools that mimic it), false in a browser or a Web Worker. */
export const isNode = !!nodeProcess?.versions?.node;

/** The mode to use when none is asked for: headless GL in Node, WebGL2 in a browser. */
export const defaultMode = (): GpuMode => (isNode ? 'headlessgl' : 'webgl2');

/**
 * Why headless GL cannot run here, or null when it can. gpu.js would only say "not supported", so
 * this loads `gl` itself (resolved from gpu.js's own location, as gpu.js does) to tell a missing
 * native build from a missing display.
 * @example const why = headlessGlProblem(); if (why) console.log('no headless GL:', why);
 */
export function headlessGlProblem(): string | null {
  const loaded = loadHeadlessGl();
  if (typeof loaded === 'string') return loaded;
  const gl = loaded(1, 1);
  if (!gl) {
    const display = nodeProcess?.env.DISPLAY;
    return display ? `headless GL could not open a context on DISPLAY=${display}` : 'headless GL needs an X display and DISPLAY is not set';
  }
  const hasFloat = gl.getExtension('OES_texture_float') !== null;
  (gl.getExtension('STACKGL_destroy_context') as { destroy(): void } | null)?.destroy();
  return hasFloat ? null : 'the GL context lacks OES_texture_float (float textures)';
}

/** The part of a headless-gl context this file touches. */
interface HeadlessGl {
  getExtension(name: string): unknown;
  getParameter(name: number): unknown;
  readonly RENDERER: number;
  readonly VERSION: number;
}
type GetContext = (w: number, h: number, opts?: object) => HeadlessGl | null;

/** The `gl` package's context factory, or why it cannot load. */
function loadHeadlessGl(): GetContext | string {
  type Require = ((id: string) => unknown) & { resolve(id: string): string };
  const moduleApi = nodeProcess?.getBuiltinModule?.('node:module') as { createRequire(path: string): Require } | undefined;
  if (!moduleApi) return 'this Node has no process.getBuiltinModule (needs Node ≥ 20.16)';
  try {
    const fromHere = moduleApi.createRequire(import.meta.url);
    const fromGpuJs = moduleApi.createRequire(fromHere.resolve('gpu.js'));
    return fromGpuJs('gl') as GetContext;
  } catch (e) {
    return `the native 'gl' package is not built (${firstLine(e)})`;
  }
}

/**
 * The GL implementation headless GL runs on (e.g. Mesa's 'llvmpipe (LLVM 15.0.6, 256 bits)', a
 * software rasteriser), or null when there is none. For labelling benchmarks.
 * @example headlessGlRenderer() // 'llvmpipe (LLVM 15.0.6, 256 bits) / OpenGL ES 2.0 (ANGLE …)'
 */
export function headlessGlRenderer(): string | null {
  if (!isNode) return null;
  const loaded = loadHeadlessGl();
  if (typeof loaded === 'string') return null;
  const gl = loaded(1, 1);
  if (!gl) return null;
  const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  const version = String(gl.getParameter(gl.VERSION));
  (gl.getExtension('STACKGL_destroy_context') as { destroy(): void } | null)?.destroy();
  return `${renderer} / ${version}`;
}

const firstLine = (e: unknown): string => String(e instanceof Error ? e.message : e).split('\n')[0];

/**
 * A gpu.js instance in `mode`, or the reason there cannot be one.
 * @example const r = createGpuContext('cpu'); if (r.ok) r.context.gpu.createKernel(...)
 */
export function createGpuContext(mode: GpuMode = defaultMode()): ContextResult {
  if (mode === 'headlessgl') {
    if (!isNode) return { ok: false, reason: "mode 'headlessgl' needs Node" };
    const problem = headlessGlProblem();
    if (problem) return { ok: false, reason: problem };
  } else if (mode === 'webgl2' && !GPU.isWebGL2Supported) {
    return { ok: false, reason: 'this environment has no WebGL2' };
  } else if (mode === 'webgl' && !GPU.isWebGLSupported) {
    return { ok: false, reason: 'this environment has no WebGL' };
  }
  try {
    return { ok: true, context: { gpu: new GPU({ mode }), mode } };
  } catch (e) {
    return { ok: false, reason: `gpu.js could not start in mode '${mode}': ${firstLine(e)}` };
  }
}
