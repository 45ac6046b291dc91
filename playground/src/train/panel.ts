// Panel 1, Train: the CLI's controls, both models trained side by side in a worker, live curves.
import * as Plot from '@observablehq/plot';
import { ATTN_TYPES, type AttnType } from '@wedge/models';
import { el, download, num, panelIntro, pct, throttled } from '../ui.ts';
import type { TrainerClient } from './client.ts';
import { BACKENDS, BACKEND_LABELS, type BackendChoice, PLAYGROUND_DEFAULTS, CLI_DEFAULTS, type PlaygroundConfig } from './config.ts';
import type { ToMain } from './protocol.ts';

export const MODEL_COLORS: Record<AttnType, string> = { standard: '#1f6fb4', triple: '#d2691e' };
export const MODEL_NAMES: Record<AttnType, string> = { standard: 'standard', triple: 'triple-product' };

type NumberField = Exclude<keyof PlaygroundConfig, 'backend'>;
/** The CLI's flags, in its --help order. */
const FIELDS: { key: NumberField; flag: string; label: string; step: string; min: string }[] = [
  { key: 'vocab', flag: '--vocab', label: 'vocab', step: '1', min: '2' },
  { key: 'dModel', flag: '--d-model', label: 'd_model', step: '2', min: '2' },
  { key: 'nHead', flag: '--heads', label: 'heads', step: '1', min: '1' },
  { key: 'seqLen', flag: '--seq-len', label: 'seq_len', step: '2', min: '4' },
  { key: 'batchSize', flag: '--batch', label: 'batch', step: '1', min: '1' },
  { key: 'lr', flag: '--lr', label: 'lr', step: 'any', min: '0' },
  { key: 'steps', flag: '--steps', label: 'steps', step: '1', min: '1' },
  { key: 'seed', flag: '--seed', label: 'seed', step: '1', min: '0' },
  { key: 'evalEvery', flag: '--eval-every', label: 'eval every', step: '1', min: '1' },
  { key: 'evalSize', flag: '--eval-size', label: 'eval size', step: '1', min: '1' },
];

interface Curves {
  train: { step: number; loss: number; model: string }[];
  evals: { step: number; loss: number; acc: number; model: string }[];
}

export function mountTrain(root: HTMLElement, client: TrainerClient): { shown(): void } {
  root.append(
    panelIntro(
      'Train',
      'Both models learn the copy task from the same seed and the same batches, in a Web Worker: the second half of each ' +
        'sequence repeats the first, so only the second half can be predicted. The curves show training loss (the dashed ' +
        'line is the lowest loss possible) and copy accuracy on held-out sequences.',
    ),
  );

  // ---- controls -----------------------------------------------------------------------------------
  const inputs = {} as Record<NumberField, HTMLInputElement>;
  const form = el('form', { class: 'controls', 'aria-label': 'training config' });
  for (const f of FIELDS) {
    const input = el('input', { type: 'number', name: f.key, step: f.step, min: f.min, value: PLAYGROUND_DEFAULTS[f.key], 'data-testid': `cfg-${f.key}` });
    inputs[f.key] = input;
    form.append(el('label', { title: `the CLI's ${f.flag}` }, el('span', {}, f.label), input));
  }
  const backendSelect = el('select', { name: 'backend', 'data-testid': 'cfg-backend' });
  for (const b of BACKENDS) backendSelect.append(el('option', { value: b, selected: b === PLAYGROUND_DEFAULTS.backend }, BACKEND_LABELS[b]));
  let backendTouched = false;
  backendSelect.addEventListener('change', () => (backendTouched = true));
  const backendNote = el('p', { class: 'small backend-note', 'data-testid': 'backend-note' }, 'checking which backends run here…');
  form.append(el('label', { class: 'wide', title: "the CLI's --backend" }, el('span', {}, 'backend'), backendSelect), backendNote);

  const trainBtn = el('button', { type: 'submit', class: 'primary', 'data-testid': 'train' }, 'Train');
  const pauseBtn = el('button', { type: 'button', disabled: true, 'data-testid': 'pause' }, 'Pause');
  const resetBtn = el('button', { type: 'button', title: 'the page’s fast defaults' }, 'Page defaults');
  const cliBtn = el('button', { type: 'button', title: 'the defaults of pnpm --filter examples copy-task (slower)' }, 'CLI defaults');
  const fileInput = el('input', { type: 'file', accept: '.safetensors', multiple: true, 'data-testid': 'load-file', class: 'visually-hidden', id: 'load-file' });
  const loadLabel = el('label', { for: 'load-file', class: 'button', tabindex: 0 }, 'Load checkpoint…');
  const loadNote = el('p', { class: 'small', 'data-testid': 'load-note' });
  const forgetBtn = el('button', { type: 'button', hidden: true, title: 'start from a seeded init again', 'data-testid': 'forget' }, 'Forget loaded');
  form.append(el('div', { class: 'buttons' }, trainBtn, pauseBtn), el('div', { class: 'buttons' }, resetBtn, cliBtn), el('div', { class: 'buttons' }, loadLabel, fileInput, forgetBtn), loadNote);

  // ---- status, model cards, charts ----------------------------------------------------------------
  const status = el('p', { class: 'status', 'data-testid': 'train-status', role: 'status' }, 'Press Train to start.');
  const errorBox = el('p', { class: 'error', 'data-testid': 'train-error', hidden: true });
  const cards = {} as Record<AttnType, { acc: HTMLElement; details: HTMLElement; from: HTMLElement; dl: HTMLButtonElement }>;
  const cardRow = el('div', { class: 'cards' });
  for (const a of ATTN_TYPES) {
    const acc = el('div', { class: 'acc', 'data-testid': `acc-${a}` }, 'copy accuracy —');
    const details = el('div', { class: 'small', 'data-testid': `details-${a}` }, 'not trained yet');
    const from = el('div', { class: 'small', 'data-testid': `from-${a}` }, 'from a seeded init');
    const dl = el('button', { type: 'button', disabled: true, 'data-testid': `download-${a}`, title: 'loads into the seed’s PyTorch TestModel with strict=True' }, 'Download .safetensors');
    cards[a] = { acc, details, from, dl };
    cardRow.append(el('section', { class: 'card', style: `border-top-color:${MODEL_COLORS[a]}` }, el('h3', {}, `${MODEL_NAMES[a]} attention`), acc, details, from, dl));
    dl.onclick = () => client.send({ type: 'export', attnType: a });
  }
  const lossChart = el('div', { class: 'chart', 'data-testid': 'loss-chart' });
  const accChart = el('div', { class: 'chart', 'data-testid': 'acc-chart' });
  const right = el('div', { class: 'train-main' }, status, errorBox, cardRow, el('div', { class: 'charts' }, lossChart, accChart));
  root.append(el('div', { class: 'train-layout' }, form, right));

  // ---- state ----------------------------------------------------------------------------------------
  let curves: Curves = { train: [], evals: [] };
  let floor = 0;
  let chance = 1 / PLAYGROUND_DEFAULTS.vocab;
  let running: 'idle' | 'running' | 'paused' | 'done' = 'idle';
  const pending: { init: Partial<Record<AttnType, Uint8Array>>; names: Partial<Record<AttnType, string>>; maxLen?: number } = { init: {}, names: {} };
  let runFrom: Partial<Record<AttnType, string>> = {};
  let stepTarget = PLAYGROUND_DEFAULTS.steps;
  let lastStep = 0;
  let speed: Record<AttnType, number> = { standard: 0, triple: 0 };
  const latest: Partial<Record<AttnType, { acc: number; loss: number; step: number }>> = {};
  let backendName = '';

  const readConfig = (): PlaygroundConfig => {
    const c = { backend: backendSelect.value as BackendChoice } as PlaygroundConfig;
    for (const f of FIELDS) c[f.key] = Number(inputs[f.key].value);
    return c;
  };
  const setConfig = (c: PlaygroundConfig): void => {
    for (const f of FIELDS) inputs[f.key].value = String(c[f.key]);
  };

  const chartWidth = (): number => Math.max(320, Math.floor((lossChart.clientWidth || 492) - 12)); // inside the 6 px padding
  const color = { domain: ATTN_TYPES.map((a) => MODEL_NAMES[a]), range: ATTN_TYPES.map((a) => MODEL_COLORS[a]), legend: true };
  const drawLoss = throttled(function drawLossChart() {
    if (root.hidden) return; // drawn again when the panel is shown
    const maxStep = Math.max(stepTarget, 1);
    lossChart.replaceChildren(
      Plot.plot({
        width: chartWidth(), height: 250, marginLeft: 44, color, style: { fontSize: '12px' },
        x: { label: 'step', domain: [0, maxStep] },
        y: { label: 'loss', grid: true, zero: false },
        marks: [
          Plot.ruleY([floor], { stroke: '#555', strokeDasharray: '4 3' }),
          Plot.text([floor], { y: (d: number) => d, x: maxStep, text: () => 'loss floor', textAnchor: 'end', dy: -7, fill: '#555' }),
          Plot.line(binned(curves.train), { x: 'step', y: 'loss', stroke: 'model', z: 'model', strokeOpacity: 0.45, strokeWidth: 1 }),
          Plot.line(curves.evals, { x: 'step', y: 'loss', stroke: 'model', z: 'model', strokeWidth: 2 }),
        ],
      }),
    );
  }, 500);
  const drawAccuracy = throttled(function drawAccuracyChart() {
    if (root.hidden) return;
    const maxStep = Math.max(stepTarget, 1);
    accChart.replaceChildren(
      Plot.plot({
        width: chartWidth(), height: 250, marginLeft: 44, color, style: { fontSize: '12px' },
        x: { label: 'step', domain: [0, maxStep] },
        y: { label: 'copy accuracy (%)', domain: [0, 100], grid: true },
        marks: [
          Plot.ruleY([100 * chance], { stroke: '#888', strokeDasharray: '2 3' }),
          Plot.text([100 * chance], { y: (d: number) => d, x: maxStep, text: () => 'chance', textAnchor: 'end', dy: -7, fill: '#666' }),
          Plot.line(curves.evals, { x: 'step', y: (d: Curves['evals'][number]) => 100 * d.acc, stroke: 'model', z: 'model', strokeWidth: 2 }),
          Plot.dot(curves.evals, { x: 'step', y: (d: Curves['evals'][number]) => 100 * d.acc, fill: 'model', r: 2 }),
        ],
      }),
    );
  }, 500);
  const drawCharts = (): void => {
    drawLoss();
    drawAccuracy();
  };

  const drawCards = throttled(function drawCards() {
    for (const a of ATTN_TYPES) {
      const l = latest[a];
      cards[a].acc.textContent = l ? `copy accuracy ${pct(l.acc)}` : 'copy accuracy —';
      cards[a].details.textContent = l
        ? `eval loss ${num(l.loss)} at step ${l.step} · ${speed[a] > 0 ? `${speed[a].toFixed(1)} steps/s` : '— steps/s'}`
        : 'not trained yet';
    }
    const label = running === 'paused' ? 'paused' : running === 'done' ? 'done' : running === 'running' ? 'training' : 'idle';
    const both = speed.standard > 0 ? 1 / (1 / speed.standard + 1 / speed.triple) : 0;
    status.textContent = `${label} · step ${lastStep} / ${stepTarget} · ${both > 0 ? `${both.toFixed(1)} steps/s (both models)` : ''} · backend ${backendName}`;
  }, 150);

  const showError = (message: string | null): void => {
    errorBox.hidden = message === null;
    errorBox.textContent = message ?? '';
  };

  // ---- actions --------------------------------------------------------------------------------------
  form.onsubmit = (event) => {
    event.preventDefault();
    showError(null);
    const config = readConfig();
    stepTarget = config.steps;
    chance = 1 / config.vocab;
    curves = { train: [], evals: [] };
    lastStep = 0;
    for (const a of ATTN_TYPES) delete latest[a];
    runFrom = { ...pending.names };
    // the worker keeps its own copies: structured clone, not transfer, so Train can start from them again
    client.send({ type: 'start', config, init: pending.init, maxLen: pending.maxLen });
    status.textContent = 'starting…';
  };
  pauseBtn.onclick = () => client.send({ type: running === 'paused' ? 'resume' : 'pause' });
  resetBtn.onclick = () => setConfig(PLAYGROUND_DEFAULTS);
  forgetBtn.onclick = () => {
    pending.init = {};
    pending.names = {};
    pending.maxLen = undefined;
    loadNote.textContent = 'Train starts from a seeded init.';
    forgetBtn.hidden = true;
  };
  cliBtn.onclick = () => setConfig(CLI_DEFAULTS);
  fileInput.onchange = async () => {
    showError(null);
    for (const file of fileInput.files ?? []) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      client.send({ type: 'inspect', bytes, name: file.name }, [bytes.buffer]);
    }
    fileInput.value = '';
  };

  client.on((m: ToMain) => {
    switch (m.type) {
      case 'backends': {
        const notes: string[] = [];
        for (const option of backendSelect.options) {
          const why = m.available[option.value as BackendChoice];
          option.disabled = why !== null;
          option.textContent = `${BACKEND_LABELS[option.value as BackendChoice]}${why ? ' (unavailable)' : ''}`;
          if (why) notes.push(`${BACKEND_LABELS[option.value as BackendChoice]}: ${why}.`);
        }
        backendNote.textContent = notes.length ? notes.join(' ') : 'All three backends run here.';
        // the fastest CPU engine by default, as @wedge/core itself picks it: WebAssembly where it runs
        if (!backendTouched) backendSelect.value = m.available.wasm === null ? 'wasm' : 'js';
        break;
      }
      case 'started':
        floor = m.lossFloor;
        backendName = m.backend;
        for (const a of ATTN_TYPES) cards[a].dl.disabled = false;
        pauseBtn.disabled = false;
        drawCharts();
        break;
      case 'progress': {
        lastStep = m.step;
        if (m.stepsPerSec.standard > 0) speed = m.stepsPerSec;
        for (const a of ATTN_TYPES) {
          const losses = m.losses[a];
          losses.forEach((loss, i) => curves.train.push({ step: m.step - losses.length + 1 + i, loss, model: MODEL_NAMES[a] }));
          const e = m.evals?.[a];
          if (e && m.step === 0) {
            cards[a].from.textContent = runFrom[a] ? `from ${runFrom[a]} · step 0: copy accuracy ${pct(e.copyAccuracy)}` : `from a seeded init (seed ${readConfig().seed})`;
          }
          if (e) {
            curves.evals.push({ step: e.step, loss: e.evalLoss, acc: e.copyAccuracy, model: MODEL_NAMES[a] });
            latest[a] = { acc: e.copyAccuracy, loss: e.evalLoss, step: e.step };
          }
        }
        drawCards();
        drawCharts();
        break;
      }
      case 'state':
        running = m.state;
        pauseBtn.textContent = running === 'paused' ? 'Resume' : 'Pause';
        pauseBtn.disabled = running === 'done';
        drawCards();
        break;
      case 'checkpoint':
        download(m.bytes, m.filename);
        break;
      case 'inspected': {
        pending.init[m.attnType] = m.bytes;
        pending.names[m.attnType] = m.name;
        forgetBtn.hidden = false;
        pending.maxLen = m.maxLen;
        inputs.vocab.value = String(m.vocab);
        inputs.dModel.value = String(m.dModel);
        inputs.nHead.value = String(m.nHead);
        inputs.seqLen.value = String(m.maxLen);
        const loaded = ATTN_TYPES.filter((a) => pending.init[a]).map((a) => MODEL_NAMES[a]).join(' and ');
        loadNote.textContent =
          `Loaded ${m.name}: ${MODEL_NAMES[m.attnType]} model, vocab ${m.vocab}, d_model ${m.dModel}, ${m.nHead} heads, max_len ${m.maxLen}. ` +
          `Train now starts the ${loaded} model from these weights.`;
        break;
      }
      case 'error':
        if (m.about !== 'probe') showError(m.message);
        break;
    }
  });
  drawCharts();
  drawCards();
  return { shown: drawCharts };
}

/** At most ~`max` points per model: long runs are drawn as means over bins of consecutive steps. */
function binned(points: Curves['train'], max = 400): Curves['train'] {
  const perModel = new Map<string, Curves['train']>();
  for (const p of points) {
    const series = perModel.get(p.model);
    if (series) series.push(p);
    else perModel.set(p.model, [p]);
  }
  const out: Curves['train'] = [];
  for (const series of perModel.values()) {
    const k = Math.ceil(series.length / max);
    for (let i = 0; i < series.length; i += k) {
      const bin = series.slice(i, i + k);
      out.push({ step: bin[bin.length - 1].step, loss: bin.reduce((s, p) => s + p.loss, 0) / bin.length, model: bin[0].model });
    }
  }
  return out;
}
