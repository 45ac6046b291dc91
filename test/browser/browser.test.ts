// Wedge in real Chromium (Debian's, driven by playwright-core): core, the models, the WebAssembly
// backend and the gpu.js backend (WebGL2, on SwiftShader here) on a page's main thread and in a module Web Worker, bundled
// from the workspace sources by esbuild. The CPU results must equal Node's to the bit; the GPU's
// must match the CPU backend within float32 bounds. Also: the no-WebGL advice a browser user sees,
// and docs/browser.md's worker pattern (the page keeps running while the worker trains).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserProblem, launchChromium, pageResult, serve } from '../helpers/browser.ts';
import { cpuSuite } from './pages/suite.ts';

const root = resolve(import.meta.dirname, '../..');
const pages = join(import.meta.dirname, 'pages');
const problem = browserProblem();
if (problem) console.warn(`[test/browser] browser tests SKIPPED: ${problem}`);

let browser: Browser;
let server: Awaited<ReturnType<typeof serve>>;

/** esbuild bundles of the page and worker entries, as a browser app would ship them. */
async function bundle(): Promise<Record<string, string>> {
  const entries = ['page', 'worker', 'train_worker', 'train_page', 'responsive'];
  const out = await build({
    entryPoints: entries.map((e) => join(pages, `${e}.ts`)),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/out',
    write: false,
    logLevel: 'silent',
  });
  const files: Record<string, string> = {};
  for (const f of out.outputFiles) files[f.path.replace(/^\/out/, '')] = f.text;
  return files;
}

beforeAll(async () => {
  if (problem) return;
  const files = await bundle();
  // no Node module imported (the wasm thread pool's worker source, a string, mentions one for Node)
  for (const [path, js] of Object.entries(files)) expect(js, path).not.toMatch(/^import [^;]*from ['"]node:/m);
  server = await serve({
    ...files,
    '/index.html': '<!doctype html><body><script type="module" src="/page.js"></script>',
    '/train.html': '<!doctype html><body><button id="stop">stop</button><script type="module" src="/train_page.js"></script>',
    '/responsive.html': '<!doctype html><body><script type="module" src="/responsive.js"></script>',
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const without = (r: unknown, key: string) => Object.fromEntries(Object.entries(r as object).filter(([k]) => k !== key));

describe.skipIf(problem)('in Chromium', () => {
  let expected: Record<string, unknown>;
  beforeAll(async () => {
    expected = await cpuSuite(); // the same module, in Node
  });

  it.each(['page', 'worker'])('core and the models give Node’s numbers, bit for bit (%s)', async (where) => {
    const { result } = await pageResult(browser, `${server.url}/?suite=cpu${where === 'worker' ? '&worker=1' : ''}`);
    expect((result as { where: string }).where).toBe(where);
    expect(without(result, 'where')).toEqual(expected);
    const { standard, triple } = expected as { standard: number[]; triple: number[] };
    for (const losses of [standard, triple]) {
      expect(losses).toHaveLength(6);
      expect(losses[0]).toBeCloseTo(Math.log(8), 1); // near-uniform predictions at the start
      expect(losses.every(Number.isFinite)).toBe(true);
    }
  });

  it.each(['page', 'worker'])('the gpu.js backend runs on WebGL2 and matches the CPU backend (%s)', async (where) => {
    const { result } = await pageResult(browser, `${server.url}/?suite=gpu${where === 'worker' ? '&worker=1' : ''}`, 240_000);
    const r = result as { ok: boolean; mode: string; onGpu: string; launches: number; diff: Record<string, number>; where: string };
    expect([r.ok, r.mode, r.onGpu, r.where]).toEqual([true, 'webgl2', 'gpu', where]);
    expect(r.launches).toBeGreaterThan(10);
    // float32 on the GPU against float32 on the CPU: products over K = 48 terms, softmax, sums of 64
    expect(r.diff.mm).toBeLessThan(1e-5);
    expect(r.diff.sm).toBeLessThan(1e-5);
    expect(r.diff.sum).toBeLessThan(1e-5);
    expect(r.diff.train).toBeLessThan(1e-4); // three Adam steps of triple-product attention
  });

  it.each(['page', 'worker'])('the WebAssembly backend loads and matches the CPU reference (%s)', async (where) => {
    const { result } = await pageResult(browser, `${server.url}/?suite=wasm${where === 'worker' ? '&worker=1' : ''}`);
    const r = result as { info: { available: boolean; threads: number }; backend: string; inWasmMemory: boolean; diff: Record<string, number>; where: string };
    expect([r.info.available, r.backend, r.where]).toEqual([true, 'wasm', where]);
    expect(r.info.threads).toBeGreaterThanOrEqual(1);
    expect(r.inWasmMemory).toBe(true);
    // float32 products and softmax, summed in another order than the reference's
    expect(r.diff.mm).toBeLessThan(1e-5);
    expect(r.diff.sm).toBeLessThan(1e-5);
    expect(r.diff.train).toBeLessThan(1e-4);
  });

  it('without WebGL, useGpu() says so with browser advice (no Node hints) and stays on the CPU', async () => {
    const noGl = await launchChromium(['--disable-3d-apis']);
    try {
      const { result, logs } = await pageResult(noGl, `${server.url}/?suite=advice`);
      const r = result as { message: string; useGpu: boolean };
      expect(r.useGpu).toBe(false);
      expect(r.message).toMatch(/^\[wedge\/gpu\] no WebGL2 \(no WebGL2 here\); staying on the CPU backend\. Fix: turn on hardware acceleration/);
      const warned = logs.filter((l) => l.startsWith('warning: [wedge/gpu]'));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(/no WebGL2 \(this environment has no WebGL2\)/);
      expect(warned[0]).not.toMatch(/xvfb|setup-gpu|Node|DISPLAY/);
    } finally {
      await noGl.close();
    }
  });

  it("docs/browser.md's worker pattern: the page keeps running while the worker trains, and 'stop' gets through", async () => {
    const { result } = await pageResult(browser, `${server.url}/responsive.html`);
    const r = result as { steps: number; first: number; last: number; stopped: boolean; maxGapMs: number };
    expect(r.stopped).toBe(true);
    expect(r.steps).toBeGreaterThanOrEqual(25);
    expect(r.steps).toBeLessThan(1000); // stopped between steps, long before the end
    expect(r.last).toBeLessThan(r.first);
    // the main thread ran its 5 ms timer throughout (a generous bound: the machine is shared);
    // the same loop on the main thread without awaits would stall it for the whole run
    expect(r.maxGapMs).toBeLessThan(1000);
  });

  it("docs/browser.md's page runs as written and shows the worker's progress", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${server.url}/train.html`);
      type Doc = { document: { querySelector(s: string): { textContent: string | null } | null } };
      await page.waitForFunction(() => (globalThis as unknown as Doc).document.querySelector('p')?.textContent?.endsWith('(done)'), null, { timeout: 120_000 });
      expect(await page.textContent('p')).toMatch(/^step 100: loss \d\.\d{3} \(done\)$/);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe('docs/browser.md', () => {
  it('shows train_worker.ts and train_page.ts exactly as the browser test runs them', () => {
    const doc = readFileSync(join(root, 'docs/browser.md'), 'utf8');
    for (const file of ['train_worker.ts', 'train_page.ts']) {
      const block = new RegExp('```ts\\n(// ' + file.replace('.', '\\.') + ':[\\s\\S]*?)```').exec(doc)?.[1];
      expect(block, `docs/browser.md has no block starting '// ${file}:'`).toBeDefined();
      expect(block).toBe(readFileSync(join(pages, file), 'utf8'));
    }
  });
});
