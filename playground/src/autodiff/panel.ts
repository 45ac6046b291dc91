// Panel 4, Autodiff: type an expression, see its tape (toDot, laid out by Graphviz through viz.js),
// and step through backward one node at a time, each gradient checked by finite differences.
import type { Viz } from '@viz-js/viz';
import { el, num, panelIntro } from '../ui.ts';
import { EXAMPLES } from './examples.ts';
import { ParseError, parse } from './parser.ts';
import { FD_TOLERANCE, type BackwardStep, type Trace, trace } from './tape.ts';

/** Values laid out by shape, e.g. [[1, 2], [3, 4]]; long tensors are cut with '…'. */
export function formatValues(values: readonly number[], shape: readonly number[], limit = 36): string {
  if (shape.length === 0) return num(values[0], 6);
  let k = 0;
  const rec = (d: number): string => {
    const parts: string[] = [];
    for (let i = 0; i < shape[d]; i++) {
      if (k >= limit) {
        parts.push('…');
        break;
      }
      parts.push(d === shape.length - 1 ? num(values[k++], 6) : rec(d + 1));
    }
    return `[${parts.join(', ')}]`;
  };
  return rec(0);
}

const mark = (ok: boolean): string => (ok ? '✓' : '✗');

export function mountAutodiff(root: HTMLElement): { shown(): void } {
  root.append(
    panelIntro(
      'Autodiff',
      'Write a few lines: names given numbers or arrays are the leaves, the last line is the output L (summed if it is not a ' +
        'scalar). The graph is Wedge’s tape, inputs on the left; stepping backward visits it from L to the leaves, each node ' +
        'turning the gradient it receives into gradients for its inputs, checked against finite differences.',
    ),
  );
  const preset = el('select', { 'data-testid': 'ad-preset' }, el('option', { value: '' }, 'examples…'));
  EXAMPLES.forEach((ex, i) => preset.append(el('option', { value: String(i) }, ex.title)));
  const source = el('textarea', { rows: 9, spellcheck: false, 'data-testid': 'ad-source', 'aria-label': 'expression' });
  source.value = EXAMPLES[2].source;
  const runBtn = el('button', { type: 'button', class: 'primary', 'data-testid': 'ad-run' }, 'Build tape');
  const errorBox = el('pre', { class: 'error', hidden: true, 'data-testid': 'ad-error' });
  const help = el('p', { class: 'small' },
    'Syntax: + − * / ^ (power) @ (matmul), unary −, x.T, numbers and nested [..] arrays, # comments; functions exp log tanh sigmoid ' +
      'relu sin cos sqrt abs square, sum(x[, dim]) mean(x[, dim]) softmax(x[, dim]) logsoftmax(x[, dim]) maximum(a, b) minimum(a, b). All float64.');
  const graph = el('div', { class: 'graph', 'data-testid': 'ad-graph' });
  const back = el('button', { type: 'button', 'data-testid': 'ad-back' }, '◀ back');
  const next = el('button', { type: 'button', class: 'primary', 'data-testid': 'ad-step' }, 'step backward ▶');
  const all = el('button', { type: 'button', 'data-testid': 'ad-all' }, 'run to the leaves');
  const counter = el('span', { class: 'small', 'data-testid': 'ad-counter' });
  const stepCard = el('div', { class: 'step-card', 'data-testid': 'ad-step-card' });
  const leavesBox = el('div', { class: 'leaves', 'data-testid': 'ad-leaves' });
  root.append(
    el('div', { class: 'ad-layout' },
      el('div', { class: 'ad-left' }, preset, source, el('div', { class: 'buttons' }, runBtn), errorBox, help, leavesBox),
      el('div', { class: 'ad-right' }, graph, el('div', { class: 'buttons' }, back, next, all, counter), stepCard)),
  );

  let viz: Viz | null = null;
  let current: Trace | null = null;
  let at = 0; // steps shown so far (0: none yet)

  const renderLeaves = (t: Trace): void => {
    const rows = t.leaves.map((l) => {
      const ok = l.walk.every((g, k) => Math.abs(g - l.engine[k]) <= 1e-12 * (1 + Math.abs(g)) && Math.abs(g - l.numeric[k]) <= FD_TOLERANCE * (1 + Math.abs(l.numeric[k])));
      return el('tr', { 'data-testid': `leaf-${l.name}` },
        el('td', {}, `∂L/∂${l.name}`),
        el('td', { class: 'mono', 'data-testid': `leaf-grad-${l.name}` }, formatValues(l.walk, l.shape)),
        el('td', { class: 'mono' }, formatValues(l.engine, l.shape)),
        el('td', { class: 'mono' }, formatValues(l.numeric, l.shape)),
        el('td', { class: ok ? 'ok' : 'bad' }, mark(ok)));
    });
    leavesBox.replaceChildren(
      el('h3', {}, `Gradients of L = ${t.summed ? 'sum(output)' : 'output'} = ${num(t.loss, 8)}`),
      el('table', { class: 'grad-table' },
        el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, 'step by step'), el('th', {}, 'Wedge backward()'), el('th', {}, 'finite differences'), el('th', {}, ''))),
        el('tbody', {}, ...rows)),
    );
  };

  const describe = (s: BackwardStep): HTMLElement => {
    const checked = s.numeric === null
      ? el('p', { class: 'small' }, 'made inside an op (no expression of yours produced it), so no finite-difference check of its own')
      : el('p', { class: s.error! <= FD_TOLERANCE ? 'ok' : 'bad', 'data-testid': 'ad-fd' },
        `finite differences: ${formatValues(s.numeric, s.shape)}  ${mark(s.error! <= FD_TOLERANCE)} (largest difference ${s.error!.toExponential(1)})`);
    return el('div', {},
      el('h3', {}, `${s.label}${s.op && s.label !== s.op ? ` = ${s.op}(…)` : ''}`, el('span', { class: 'small' }, `  ${s.op ?? 'leaf'} · shape [${s.shape.join(', ')}]`)),
      el('p', {}, el('b', {}, 'value '), el('span', { class: 'mono' }, formatValues(s.value, s.shape))),
      el('p', {}, el('b', {}, 'incoming gradient gOut = ∂L/∂' + s.label + ' '), el('span', { class: 'mono', 'data-testid': 'ad-gout' }, formatValues(s.gOut, s.shape))),
      checked,
      s.op === null
        ? el('p', {}, `a leaf: gOut is added into ${s.label}.grad`)
        : el('ul', {}, ...s.sends.map((g) => el('li', {},
          `to ${g.inputName} (${g.label}): `, el('span', { class: 'formula' }, g.formula),
          ' = ', el('span', { class: 'mono' }, formatValues(g.gradient, g.shape)),
          g.unbroadcast ? el('span', { class: 'small' }, ' (summed back to its shape by the engine)') : null))),
    );
  };

  const show = (): void => {
    if (!current) return;
    const n = current.steps.length;
    counter.textContent = `node ${at} of ${n}`;
    back.disabled = at <= 1;
    next.disabled = at >= n;
    all.disabled = at >= n;
    const visited = new Set(current.steps.slice(0, at).map((s) => s.dotId));
    const here = at > 0 ? current.steps[at - 1].dotId : null;
    for (const g of graph.querySelectorAll<SVGGElement>('g.node')) {
      const id = g.querySelector('title')?.textContent ?? '';
      g.classList.toggle('visited', visited.has(id));
      g.classList.toggle('current', id === here);
    }
    stepCard.replaceChildren(at > 0 ? describe(current.steps[at - 1]) : el('p', { class: 'small' }, 'Press “step backward” to start at L.'));
  };

  const build = async (): Promise<void> => {
    errorBox.hidden = true;
    let t: Trace;
    try {
      t = trace(parse(source.value));
    } catch (e) {
      errorBox.hidden = false;
      const msg = e instanceof Error ? e.message : String(e);
      errorBox.textContent = e instanceof ParseError ? `${msg}\n${source.value.split('\n')[e.line - 1] ?? ''}\n${' '.repeat(e.column - 1)}^` : msg;
      return;
    }
    current = t;
    at = 1;
    viz ??= await (await import('@viz-js/viz')).instance(); // 1.4 MB of Graphviz: loaded when first needed
    const svg = viz.renderSVGElement(t.dot);
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'the tape as a graph');
    graph.replaceChildren(svg);
    for (const g of graph.querySelectorAll<SVGGElement>('g.node')) {
      const id = g.querySelector('title')?.textContent ?? '';
      const k = t.steps.findIndex((s) => s.dotId === id);
      if (k >= 0) {
        g.style.cursor = 'pointer';
        g.addEventListener('click', () => {
          at = k + 1;
          show();
        });
      }
    }
    renderLeaves(t);
    show();
  };

  preset.onchange = () => {
    if (preset.value === '') return;
    source.value = EXAMPLES[Number(preset.value)].source;
    void build();
  };
  runBtn.onclick = () => void build();
  next.onclick = () => {
    at++;
    show();
  };
  back.onclick = () => {
    at--;
    show();
  };
  all.onclick = () => {
    at = current?.steps.length ?? 0;
    show();
  };
  let built = false;
  return {
    shown() {
      if (!built) {
        built = true;
        void build();
      }
    },
  };
}
