// Shared set-up of the GPU tests: which gpu.js modes can run here, inputs laid out as strided views,
// and "run the same function on the CPU backend and on the GPU backend, then compare".
import fc, { type Arbitrary } from 'fast-check';
import { Generator, Tensor, setBackend, uniform, type DType } from '@wedge/core';
import { GPU_BACKEND, headlessGlProblem, useGpu, type GpuMode } from '@wedge/gpu';
import { assertClose } from '../helpers/assert_close.ts';

// Mesa's llvmpipe tuned for many small shaders on few cores: rasterise on this thread (no handoff to
// worker threads) and skip LLVM's optimisation passes (a shader compiles ~3× faster). Set before the
// first GL context is made; either can be overridden from the environment.
process.env.LP_NUM_THREADS ??= '0';
process.env.GALLIVM_PERF ??= 'nopt';

/** Why headless GL cannot run here (no `gl` build, no display), or null. Checked once per file. */
export const glProblem: string | null = headlessGlProblem();
// CI sets WEDGE_REQUIRE_GL=1: there a missing `gl` build or display is a failure, not a skip.
if (glProblem && process.env.WEDGE_REQUIRE_GL === '1') {
  throw new Error(`[test/gpu] WEDGE_REQUIRE_GL=1 but headless GL cannot run: ${glProblem}. Run scripts/setup-gpu.sh and the tests under \`xvfb-run -a\`.`);
}
if (glProblem) {
  console.warn(
    `[test/gpu] headless GL tests SKIPPED: ${glProblem}. Run scripts/setup-gpu.sh, then the tests under \`xvfb-run -a\`.`,
  );
}

/**
 * One fast-check seed for every property of a file, so that every op meets the same shapes and
 * layouts: the shaders for the shared parts (the cotangent product, the loss sum) then compile once
 * per shape instead of once per op (a compile costs ~0.1 s on Mesa). Random per run; FC_SEED replays.
 */
export const FC_SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** fc.assert with the file's seed (printed by fast-check on failure). */
export function check<Ts extends unknown[]>(property: fc.IProperty<Ts>, numRuns: number): void {
  fc.assert(property, { numRuns, seed: FC_SEED });
}

/** The modes to test: real GLSL on headless GL (Mesa here) when it can run, and gpu.js's cpu mode always. */
export const MODES: { mode: GpuMode; skip: boolean }[] = [
  { mode: 'headlessgl', skip: glProblem !== null },
  { mode: 'cpu', skip: false },
];

/** Activate the gpu backend in `mode` with every lowered kernel taken (no CPU hand-off). */
export function activate(mode: GpuMode): void {
  if (!useGpu({ mode, cpuHandoffSize: 0 })) throw new Error(`useGpu({ mode: '${mode}' }) failed although the test expected it to run`);
}

/** How an input is laid out in memory: the kernels must read every one of these in place. */
export type Layout = 'contiguous' | 'transposed' | 'sliced' | 'expanded';
export const layoutArb: Arbitrary<Layout> = fc.constantFrom('contiguous', 'transposed', 'sliced', 'expanded');

export interface ValueRange {
  min?: number;
  max?: number;
  dtype?: DType;
}

/**
 * A CPU tensor of `shape` with seeded uniform values in [min, max], laid out as `layout`:
 * 'transposed' is a transpose(-2, -1) view of a swapped base, 'sliced' a [1::2] view of a longer
 * last dim, 'expanded' a stride-0 broadcast of size-1 dims (the values repeat along the first
 * dim longer than 1). Layouts that do not apply to a shape fall back to contiguous.
 */
export function makeInput(shape: readonly number[], layout: Layout, seed: number, range: ValueRange = {}): Tensor {
  const { min = -2, max = 2, dtype = 'float32' } = range;
  const generator = new Generator(seed);
  const draw = (s: readonly number[]): Tensor => {
    const t = uniform([...s], min, max, { generator, dtype: dtype === 'bool' ? 'float32' : dtype });
    return dtype === 'bool' ? t.gt((min + max) / 2) : t;
  };
  const nd = shape.length;
  if (layout === 'transposed' && nd >= 2) {
    const swapped = [...shape];
    [swapped[nd - 2], swapped[nd - 1]] = [swapped[nd - 1], swapped[nd - 2]];
    return draw(swapped).transpose(-2, -1);
  }
  if (layout === 'sliced' && nd >= 1) {
    const longer = [...shape];
    longer[nd - 1] = 2 * shape[nd - 1] + 1;
    return draw(longer).slice(-1, 1, undefined, 2);
  }
  const d = shape.findIndex((n) => n > 1);
  if (layout === 'expanded' && d >= 0) {
    const one = [...shape];
    one[d] = 1;
    return draw(one).expand([...shape]);
  }
  return draw(shape);
}

/** Fresh leaves with the same values, shapes and strides as `xs`, requiring grad where float. */
export function leaves(xs: readonly Tensor[]): Tensor[] {
  return xs.map((x) => {
    const t = x.detach();
    if (x.dtype === 'float32' || x.dtype === 'float64') t.requiresGrad = true;
    return t;
  });
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * Run `fn` on the CPU backend and on the GPU backend with the same inputs, and compare outputs.
 * With `grads`, also backpropagate a seeded random cotangent through each output and compare the
 * inputs' gradients (the backward pass then runs on the GPU too). Unless `onGpu: false`, the
 * output must live on the GPU: a silent CPU fallback would make the comparison vacuous.
 */
export function expectParity(
  label: string,
  inputs: readonly Tensor[],
  fn: (...xs: Tensor[]) => Tensor,
  tol: Tolerance,
  opts: { grads?: boolean; gradTol?: Tolerance; onGpu?: boolean } = {},
): void {
  const run = (backend: string): { out: Tensor; grads: (Tensor | null)[] } => {
    setBackend(backend);
    const xs = opts.grads ? leaves(inputs) : [...inputs];
    const out = fn(...xs);
    if (!opts.grads) return { out, grads: [] };
    const cotangent = uniform([...out.shape], -1, 1, { generator: new Generator(7) });
    out.mul(cotangent).sum().backward();
    return { out, grads: xs.map((x) => x.grad) };
  };
  const want = run('cpu');
  const got = run(GPU_BACKEND);
  try {
    if ((opts.onGpu ?? true) && got.out.size > 0 && got.out.device !== 'gpu') {
      throw new Error(`${label}: the output is on '${got.out.device}', expected the GPU to run the op`);
    }
    assertClose(got.out, want.out, { ...tol, label: `${label}: forward` });
    want.grads.forEach((g, i) => {
      if (g === null) return;
      const h = got.grads[i];
      if (h === null) throw new Error(`${label}: input ${i} got no gradient on the GPU backend`);
      assertClose(h, g, { ...(opts.gradTol ?? tol), label: `${label}: gradient of input ${i}` });
    });
  } finally {
    setBackend(GPU_BACKEND);
  }
}

/** float32 unit roundoff. */
export const U32 = 2 ** -24;

/**
 * Parity of a bilinear computation (matmul and the sums in its gradients) against the float32
 * summation bound: |gpu − cpu| ≤ (terms + 2)·2⁻²⁴·Σ|products| per element, where Σ|products| is the
 * same computation on the CPU with |inputs| and |cotangent|. `terms` bounds how many products any
 * output (or gradient) element sums, so the bound holds whatever order the GPU adds in.
 */
export function expectBoundedParity(label: string, inputs: readonly Tensor[], fn: (...xs: Tensor[]) => Tensor, terms: number): void {
  const run = (backend: string, abs: boolean): { out: Tensor; grads: Tensor[] } => {
    setBackend(backend);
    const xs = leaves(abs ? inputs.map((x) => x.abs()) : inputs);
    const out = fn(...xs);
    let cotangent = uniform([...out.shape], -1, 1, { generator: new Generator(7) });
    if (abs) cotangent = cotangent.abs();
    out.mul(cotangent).sum().backward();
    return { out, grads: xs.map((x) => x.grad!) };
  };
  const want = run('cpu', false);
  const mag = run('cpu', true);
  const got = run(GPU_BACKEND, false);
  const within = (name: string, g: Tensor, w: Tensor, m: Tensor): void => {
    if (g.size > 0 && g.device !== 'gpu') throw new Error(`${label}: ${name} is on '${g.device}', expected the GPU to compute it`);
    const [gv, wv, mv] = [g.data(), w.data(), m.data()];
    for (let i = 0; i < wv.length; i++) {
      const bound = (terms + 2) * U32 * mv[i] + 1e-30;
      if (!(Math.abs(gv[i] - wv[i]) <= bound)) {
        throw new Error(`${label}: ${name}[${i}] = ${gv[i]} on the GPU, ${wv[i]} on the CPU: off by ${Math.abs(gv[i] - wv[i])} > bound ${bound}`);
      }
    }
  };
  try {
    within('output', got.out, want.out, mag.out);
    want.grads.forEach((w, i) => within(`gradient of input ${i}`, got.grads[i], w, mag.grads[i]));
  } finally {
    setBackend(GPU_BACKEND);
  }
}

/** Texture-packing boundaries: gpu.js packs outputs into near-square textures and uploads 4 per texel. */
export const PACKING_SIZES = [1, 2, 3, 4, 5, 7, 16, 17, 63, 64, 65, 127, 129];
export const dimArb: Arbitrary<number> = fc.oneof(fc.constantFrom(...PACKING_SIZES), fc.integer({ min: 1, max: 9 }));
