/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The playground as a person uses it: the built site served statically (with COOP/COEP), driven in
// Debian's Chromium through playwright-core. Each panel is exercised and photographed into
// runs/playground/ (git-ignored); WEDGE_UPDATE_DOCS_SCREENSHOT=1 also rewrites docs/playground.png.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Generator, noGrad } from '@wedge/core';
import { TestModel, evaluate, formatResilienceTable, generateCopyBatch, makeEvalSet, resilienceTable } from '@wedge/models';
import { PLAYGROUND_DEFAULTS, readCheckpoint } from '../../playground/src/train/config.ts';
import { hasTorch, torchTestModelLogits } from '../helpers/torch.ts';
import { browserProblem, launchChromium, serve } from '../helpers/browser.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'runs', 'playground');
const missing = browserProblem(); // skips, naming the fix; fails instead under WEDGE_REQUIRE_BROWSER=1 (CI)

describe.skipIf(missing !== null)('playground in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let close: () => Promise<void>;
  const problems: string[] = [];
  const downloads: Record<string, string> = {};

  beforeAll(async () => {
    const vite = join(ROOT, 'playground', 'node_modules', 'vite', 'bin', 'vite.js');
    const built = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: join(ROOT, 'playground'), encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
    const served = await serve({}, join(ROOT, 'playground', 'dist')); // static files, with COOP/COEP
    close = served.close;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && problems.push(`worker console.error: ${m.text()}`)));
    // every main-thread task over 50 ms, as the browser reports it
    await page.addInitScript(() => {
      const w = window as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: true });
      // what the long frames were made of, for the log (script entry points, style and layout)
      const f = window as unknown as { __frames: string[] };
      f.__frames = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries() as (PerformanceEntry & { renderStart: number; styleAndLayoutStart: number; scripts: { invoker: string; duration: number }[] })[]) {
          if (e.duration < 100) continue;
          const layout = e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0;
          f.__frames.push(`${Math.round(e.duration)} ms (layout ${Math.round(layout)}; ${e.scripts.map((x) => `${x.invoker} ${Math.round(x.duration)}`).join(', ') || 'no script'})`);
        }
      }).observe({ type: 'long-animation-frame', buffered: true });
    });
    await page.goto(served.url);
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  const shot = async (name: string): Promise<void> => {
    // nothing sticks out sideways: the page never needs a horizontal scroll bar at 1280 px
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scroll, `${name}: page is ${scroll} px wide in a ${client} px window`).toBeLessThanOrEqual(client);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const percent = async (testId: string): Promise<number> => {
    const text = (await page.textContent(`[data-testid=${testId}]`)) ?? '';
    const m = /(\d+(?:\.\d+)?) %/.exec(text);
    return m ? Number(m[1]) : NaN;
  };

  it('opens cross-origin isolated, offers the backends it has and says why the others are off', async () => {
    await page.waitForFunction(() => !document.querySelector('[data-testid=backend-note]')?.textContent?.startsWith('checking'));
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const options = await page.$$eval('[data-testid=cfg-backend] option', (os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, disabled: (o as HTMLOptionElement).disabled })));
    expect(options.find((o) => o.value === 'js')?.disabled).toBe(false);
    const note = (await page.textContent('[data-testid=backend-note]')) ?? '';
    for (const o of options.filter((x) => x.disabled)) expect(note).toMatch(o.value === 'wasm' ? /WebAssembly: / : /WebGL/);
    expect(await page.inputValue('[data-testid=cfg-dModel]')).toBe(String(PLAYGROUND_DEFAULTS.dModel));
    // the default backend is the fastest CPU engine that runs: WebAssembly (core's), else JavaScript
    const wasm = options.find((o) => o.value === 'wasm')!;
    expect(await page.inputValue('[data-testid=cfg-backend]')).toBe(wasm.disabled ? 'js' : 'wasm');
  });

  it('Train reaches ≥ 50 % copy accuracy for both models at the defaults within two minutes, no main-thread task over 200 ms', async () => {
    await page.evaluate(() => {
      (window as unknown as { __longTasks: number[] }).__longTasks = [];
      (window as unknown as { __frames: string[] }).__frames = [];
      performance.clearMeasures();
    });
    // every setting at the page's defaults except the step budget, which only says when training stops: on the wasm
    // engine an idle machine runs the default 400 steps in ~3 s, before the checks below that need training still going
    await page.fill('[data-testid=cfg-steps]', '100000');
    const t0 = Date.now();
    await page.click('[data-testid=train]');
    await page.waitForFunction(
      () => ['standard', 'triple'].every((a) => {
        const m = /(\d+(?:\.\d+)?) %/.exec(document.querySelector(`[data-testid=acc-${a}]`)?.textContent ?? '');
        return m !== null && Number(m[1]) >= 50;
      }),
      undefined,
      { timeout: 120_000, polling: 250 },
    );
    const seconds = (Date.now() - t0) / 1000;
    const status = await page.textContent('[data-testid=train-status]');
    console.log(`[playground] both models ≥ 50 % copy accuracy after ${seconds.toFixed(1)} s: ${status}`);
    expect(await percent('acc-standard')).toBeGreaterThanOrEqual(50);
    expect(await percent('acc-triple')).toBeGreaterThanOrEqual(50);
    expect(status).toMatch(/steps\/s/);
    expect(await page.isHidden('[data-testid=train-error]')).toBe(true);

    // the heatmaps redraw while training goes on: the page must stay responsive there too
    await page.click('[data-testid=tab-inside]');
    await page.waitForSelector('[data-testid=map-triple-score-1] svg');
    await page.waitForTimeout(2500);
    await page.click('[data-testid=tab-train]');
    // pause holds the step; resume moves it on
    await page.click('[data-testid=pause]');
    await page.waitForFunction(() => document.querySelector('[data-testid=train-status]')?.textContent?.startsWith('paused'));
    const held = await page.textContent('[data-testid=train-status]');
    await page.waitForTimeout(800);
    expect(await page.textContent('[data-testid=train-status]')).toBe(held);
    expect(await page.textContent('[data-testid=pause]')).toBe('Resume');
    const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
    const renders = await page.evaluate(() => performance.getEntriesByType('measure').filter((e) => e.name.startsWith('wedge:')).map((e) => e.duration));
    console.log(`[playground] page renders while training: ${renders.length}, longest ${Math.max(0, ...renders).toFixed(0)} ms`);
    const frames = await page.evaluate(() => (window as unknown as { __frames: string[] }).__frames);
    console.log(`[playground] main-thread tasks over 50 ms while training: ${longTasks.length}, longest ${Math.max(0, ...longTasks).toFixed(0)} ms; frames over 100 ms: ${frames.join(' | ') || 'none'}`);
    const longest = Math.max(0, ...longTasks);
    if (longest > 200) {
      // The page's fault, or the machine's? With training paused, an idle page only runs an empty
      // animation-frame loop: if even that stalls for over 150 ms, the machine is oversubscribed
      // (other processes hold the cores) and wall-clock task lengths say nothing about the page.
      const stall = await page.evaluate(
        () =>
          new Promise<number>((done) => {
            let last = performance.now();
            let worst = 0;
            const t0 = last;
            const tick = (now: number): void => {
              worst = Math.max(worst, now - last);
              last = now;
              if (now - t0 < 3000) requestAnimationFrame(tick);
              else done(worst);
            };
            requestAnimationFrame(tick);
          }),
      );
      console.log(`[playground] an idle page's longest frame gap: ${stall.toFixed(0)} ms (load average ${loadavg()[0].toFixed(1)})`);
      if (stall <= 150) expect(longest, `main-thread task of ${longest.toFixed(0)} ms; frames: ${frames.join(' | ')}`).toBeLessThanOrEqual(200);
      else console.warn(`[playground] NOT CHECKED: the machine is oversubscribed (an idle page stalls ${stall.toFixed(0)} ms), so the 200 ms bound on main-thread tasks cannot be judged in this run`);
    }
    await shot('1-train');
    if (process.env.WEDGE_UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(join(SHOTS, '1-train.png'), join(ROOT, 'docs', 'playground.png'));
  }, 150_000);

  it('downloads each model as safetensors that Wedge’s TestModel (and, with torch, the seed’s) loads strictly', async () => {
    for (const a of ['standard', 'triple'] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=download-${a}]`)]);
      const path = join(SHOTS, download.suggestedFilename());
      await download.saveAs(path);
      downloads[a] = path;
      expect(download.suggestedFilename()).toMatch(new RegExp(`^wedge-${a}-step\\d+\\.safetensors$`));
      const info = readCheckpoint(readFileSync(path), path);
      expect(info).toMatchObject({ attnType: a, vocab: 16, dModel: 32, nHead: 2, maxLen: 32 });
      const model = new TestModel({ vocab: 16, dModel: 32, nHead: 2, maxLen: 32, attnType: a });
      model.loadStateDict(info.tensors); // strict
      const acc = evaluate(model, makeEvalSet(PLAYGROUND_DEFAULTS.evalSize, PLAYGROUND_DEFAULTS.batchSize, 32, 16, PLAYGROUND_DEFAULTS.seed + 2)).copyAccuracy;
      expect(acc).toBeGreaterThanOrEqual(0.5); // paused after ≥ 50 %: the weights are the trained ones
      if (!hasTorch()) continue;
      const [inputs] = generateCopyBatch(2, 32, 16, new Generator(4));
      const ours = Array.from(noGrad(() => model.forward(inputs)).data());
      const { logits: torchLogits, stderr } = torchTestModelLogits(path, inputs.toArray());
      expect(stderr).toBe('');
      expect(torchLogits).toHaveLength(ours.length);
      torchLogits.forEach((v, i) => expect(Math.abs(v - ours[i])).toBeLessThan(1e-4));
    }
  }, 120_000);

  it('loads the downloaded checkpoints back: Train starts from them (step 0 scores what they scored)', async () => {
    await page.setInputFiles('[data-testid=load-file]', [downloads.standard, downloads.triple]);
    await page.waitForFunction(() => /Train now starts the standard and triple-product model/.test(document.querySelector('[data-testid=load-note]')?.textContent ?? ''));
    await page.fill('[data-testid=cfg-steps]', '20');
    await page.click('[data-testid=train]');
    await page.waitForFunction(() => /step 0: copy accuracy/.test(document.querySelector('[data-testid=from-triple]')?.textContent ?? ''));
    for (const a of ['standard', 'triple'] as const) {
      const text = (await page.textContent(`[data-testid=from-${a}]`)) ?? '';
      expect(text).toContain(downloads[a].split('/').pop());
      const model = new TestModel({ vocab: 16, dModel: 32, nHead: 2, maxLen: 32, attnType: a });
      model.loadStateDict(readCheckpoint(readFileSync(downloads[a])).tensors);
      const acc = evaluate(model, makeEvalSet(PLAYGROUND_DEFAULTS.evalSize, PLAYGROUND_DEFAULTS.batchSize, 32, 16, PLAYGROUND_DEFAULTS.seed + 2)).copyAccuracy;
      expect(text).toContain(`step 0: copy accuracy ${(100 * acc).toFixed(1)} %`);
    }
    await page.waitForFunction(() => document.querySelector('[data-testid=train-status]')?.textContent?.startsWith('done'), undefined, { timeout: 60_000 });
  }, 120_000);

  it('Look inside: draws every head of both models and the triple model’s −det G; hover names the tokens', async () => {
    await page.click('[data-testid=tab-inside]');
    // the last run's maps (step 20), every heatmap redrawn (they are drawn one per task)
    await page.waitForFunction(() => /^step 20 /.test(document.querySelector('[data-testid=inside-status]')?.textContent ?? ''));
    await page.waitForFunction(() => document.querySelectorAll('.map-grid figure').length === 6 && document.querySelectorAll('.map.placeholder').length === 0);
    await page.waitForTimeout(300);
    for (const id of ['map-standard-weights-0', 'map-standard-weights-1', 'map-triple-weights-0', 'map-triple-weights-1', 'map-triple-score-0', 'map-triple-score-1']) {
      expect(await page.isVisible(`[data-testid=${id}] svg`)).toBe(true);
    }
    // trained past 50 % copy accuracy: far more weight on the copy source than an untrained head's ~1/position
    expect(await percent('induction-standard')).toBeGreaterThan(20);
    expect(await percent('induction-triple')).toBeGreaterThan(20);
    const box = (await page.locator('[data-testid=map-standard-weights-0] svg').first().boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.75);
    await page.waitForFunction(() => /query \d+ \(token \d+\) → key \d+ \(token \d+\)/.test(document.querySelector('[data-testid=hover-readout]')?.textContent ?? ''));
    expect(await page.locator('.tok.hot').count()).toBeGreaterThanOrEqual(1);
    await shot('2-look-inside');
  });

  it('Resilience: shows the seed’s table, and the sliders move the scores', async () => {
    await page.click('[data-testid=tab-resilience]');
    const rows = await page.$$eval('[data-testid=res-table] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const seed = formatResilienceTable(resilienceTable()).split('\n').filter((l) => l.includes('|') && !l.startsWith('Mag'));
    expect(rows.slice(0, seed.length).map((r) => r.join(' | '))).toEqual(seed.map((l) => l.split('|').map((c) => c.trim()).join(' | ')));
    await page.locator('[data-testid=res-leak]').fill('1');
    await page.waitForFunction(() => /dot product gives the true match [\d.]+ % of the weight \(the loud key wins\)/.test(document.querySelector('[data-testid=res-verdict]')?.textContent ?? ''));
    expect(await page.textContent('[data-testid=res-verdict]')).toMatch(/Gram score gives it 100\.0 % \(it wins\)/);
    expect(await page.isVisible('[data-testid=res-vectors] svg')).toBe(true);
    // the study's probe of the trained models: m = 0 is the unperturbed model, as panel 1 scored it
    await page.click('[data-testid=res-probe]');
    await page.waitForSelector('[data-testid=res-probe-table] tbody tr');
    const probe = await page.$$eval('[data-testid=res-probe-table] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(probe.map((r) => r[0])).toEqual(['0 (none)', '1', '5', '10', '50', '100']);
    expect(`copy accuracy ${probe[0][2]}`).toBe(await page.textContent('[data-testid=acc-standard]'));
    expect(`copy accuracy ${probe[0][4]}`).toBe(await page.textContent('[data-testid=acc-triple]'));
    expect(await page.textContent('[data-testid=res-probe-status]')).toMatch(/models at step 20/);
    await shot('3-resilience');
  });

  it('Autodiff: a typed expression gets the right gradients, and every backward step matches finite differences', async () => {
    await page.click('[data-testid=tab-autodiff]');
    await page.fill('[data-testid=ad-source]', 'x = 0.5\nw = [1.5, -2.0]\ny = tanh(x * w)\nsum(y * y) + x^3');
    await page.click('[data-testid=ad-run]');
    await page.waitForSelector('[data-testid=ad-graph] svg g.node');
    // L = Σ tanh(x·wᵢ)² + x³: ∂L/∂x = Σ 2 tanh(x·wᵢ)(1 − tanh²(x·wᵢ))·wᵢ + 3x², ∂L/∂wᵢ = 2 tanh(x·wᵢ)(1 − tanh²(x·wᵢ))·x
    const x = 0.5;
    const w = [1.5, -2.0];
    const d = w.map((wi) => 2 * Math.tanh(x * wi) * (1 - Math.tanh(x * wi) ** 2));
    const dx = d.reduce((s, di, i) => s + di * w[i], 0) + 3 * x * x;
    const dw = d.map((di) => di * x);
    const numbers = async (id: string): Promise<number[]> => ((await page.textContent(`[data-testid=${id}]`)) ?? '').match(/-?\d+(\.\d+)?(e-?\d+)?/g)!.map(Number);
    const close = (got: number[], want: number[]): void => {
      expect(got).toHaveLength(want.length);
      got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i]))));
    };
    close(await numbers('leaf-grad-x'), [dx]);
    close(await numbers('leaf-grad-w'), dw);
    expect(await page.locator('[data-testid=ad-leaves] td.bad').count()).toBe(0);
    expect(await page.locator('[data-testid=ad-leaves] td.ok').count()).toBe(2);
    // step from L down to the leaves: each node's incoming gradient is checked by finite differences
    const total = Number(/of (\d+)/.exec((await page.textContent('[data-testid=ad-counter]')) ?? '')![1]);
    expect(total).toBeGreaterThanOrEqual(8);
    for (let k = 1; k < total; k++) {
      expect(await page.locator('[data-testid=ad-step-card] .bad').count()).toBe(0);
      await page.click('[data-testid=ad-step]');
    }
    expect(await page.textContent('[data-testid=ad-counter]')).toBe(`node ${total} of ${total}`);
    expect(await page.textContent('[data-testid=ad-step-card]')).toMatch(/a leaf: gOut is added into/);
    await page.click('[data-testid=ad-back]');
    await page.click('[data-testid=ad-back]');
    expect(await page.locator('[data-testid=ad-graph] g.node.current').count()).toBe(1);
    await shot('4-autodiff');
    // the chain-rule example's expression, from the presets: every leaf agrees three ways
    await page.selectOption('[data-testid=ad-preset]', '0');
    await page.waitForSelector('[data-testid=leaf-grad-W]');
    expect(await page.locator('[data-testid=ad-leaves] td.ok').count()).toBe(3);
    expect(await page.locator('[data-testid=ad-leaves] td.bad').count()).toBe(0);
    await page.click('[data-testid=ad-all]');
    expect(await page.textContent('[data-testid=ad-step-card]')).toMatch(/a leaf: gOut is added into/);
    // a typo is reported where it is, not thrown
    await page.fill('[data-testid=ad-source]', 'x = 1\ny = x +* 2\ny');
    await page.click('[data-testid=ad-run]');
    expect(await page.textContent('[data-testid=ad-error]')).toMatch(/^line 2, column 8: expected a number, a name/);
  });

  it('trains on WebAssembly and on WebGL (gpu.js in the worker) to the JavaScript run’s numbers, or says why one is off', async () => {
    await page.click('[data-testid=tab-train]');
    await page.click('[data-testid=forget]');
    const enabled = async (b: string): Promise<boolean> => page.$eval(`[data-testid=cfg-backend] option[value=${b}]`, (o) => !(o as HTMLOptionElement).disabled);
    const run = async (backend: string): Promise<string> => {
      await page.selectOption('[data-testid=cfg-backend]', backend);
      await page.fill('[data-testid=cfg-steps]', '4');
      await page.fill('[data-testid=cfg-evalEvery]', '2');
      await page.click('[data-testid=train]');
      await page.waitForFunction(() => /^done · step 4 /.test(document.querySelector('[data-testid=train-status]')?.textContent ?? ''), undefined, { timeout: 90_000 });
      expect(await page.isHidden('[data-testid=train-error]')).toBe(true);
      return (await page.textContent('[data-testid=details-triple]')) ?? '';
    };
    const loss = (s: string): number => Number(/eval loss ([\d.]+)/.exec(s)![1]);
    const js = await run('js');
    for (const [backend, name, label, tol] of [['wasm', 'wasm', 'WebAssembly', 1e-4], ['webgl', 'gpu', 'WebGL \\(gpu\\.js\\)', 2e-3]] as const) {
      if (!(await enabled(backend))) {
        expect(await page.textContent('[data-testid=backend-note]')).toMatch(new RegExp(`${label}: `));
        continue;
      }
      const other = await run(backend);
      expect(await page.textContent('[data-testid=train-status]')).toMatch(new RegExp(`Wedge backend '${name}'`));
      // float32 throughout; WebGL on SwiftShader rounds its own way
      expect(Math.abs(loss(other) - loss(js)), `${backend} ${other} vs js ${js}`).toBeLessThan(tol);
    }
  }, 200_000);

  it('logged no console error or warning and no uncaught exception on the way', () => {
    expect(problems).toEqual([]);
  });
});
