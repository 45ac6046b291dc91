// Panel 2, Look inside: every head's attention weights on one sample sequence, for both models, and
// the triple model's −det G scores, redrawn as training goes on.
import * as Plot from '@observablehq/plot';
import { ATTN_TYPES, type AttnType } from '@wedge/models';
import { el, num, panelIntro, pct, throttled } from '../ui.ts';
import type { TrainerClient } from '../train/client.ts';
import type { MapsSnapshot, ToMain } from '../train/protocol.ts';
import { MODEL_COLORS, MODEL_NAMES } from '../train/panel.ts';

interface Cell {
  i: number;
  j: number;
  v: number;
  qTok: number;
  kTok: number;
}

export function mountInside(root: HTMLElement, client: TrainerClient): { shown(): void } {
  root.append(
    panelIntro(
      'Look inside',
      'Each square is one attention head on the sample sequence below: row i is the query at position i, column j the key ' +
        'it reads, darker means more weight (the future, above the diagonal, is masked). Once a model copies, the second ' +
        'half reads the token one place after the earlier copy: a stripe half a sequence below the diagonal.',
    ),
  );
  const status = el('p', { class: 'status', 'data-testid': 'inside-status' }, 'Press Train in panel 1: the maps appear at step 0 and update as the models learn.');
  const tokens = el('div', { class: 'tokens', 'data-testid': 'sample-tokens' });
  const hover = el('p', { class: 'small hover-readout', 'data-testid': 'hover-readout' }, 'Hover a square to see its query and key tokens.');
  const grids = el('div', { class: 'maps' });
  root.append(status, tokens, hover, grids);

  let sample: number[] = [];
  let L = 0;
  let latest: { step: number; maps: Record<AttnType, MapsSnapshot> } | null = null;
  let dirty = false;
  let drawn = 0;

  const drawTokens = (): void => {
    tokens.replaceChildren(
      el('span', { class: 'small' }, 'sample: '),
      ...sample.map((t, p) => el('span', { class: `tok${p >= L / 2 ? ' copy' : ''}`, title: `position ${p}`, 'data-pos': p }, String(t))),
    );
  };
  const mark = (positions: number[]): void => {
    for (const span of tokens.querySelectorAll<HTMLElement>('.tok')) span.classList.toggle('hot', positions.includes(Number(span.dataset.pos)));
  };

  const heatmap = (snap: MapsSnapshot, h: number, kind: 'weights' | 'score', attnType: AttnType): HTMLElement => {
    const { T } = snap;
    const values = kind === 'weights' ? snap.weights : snap.gramScore!;
    const cells: Cell[] = [];
    for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) cells.push({ i, j, v: values[(h * T + i) * T + j], qTok: sample[i], kTok: sample[j] });
    const ticks = Array.from({ length: T }, (_, k) => k).filter((k) => k % 5 === 0);
    const size = Math.max(180, Math.min(262, 7 * T + 50));
    const color =
      kind === 'weights'
        ? { type: 'linear' as const, domain: [0, 1], scheme: attnType === 'standard' ? ('blues' as const) : ('oranges' as const), label: 'weight' }
        : { type: 'symlog' as const, scheme: 'viridis' as const, label: '−det G' };
    const title = (d: Cell): string =>
      `query ${d.i} (token ${d.qTok}) → key ${d.j} (token ${d.kTok})\n${kind === 'weights' ? `weight ${num(d.v, 3)}` : `−det G ${num(d.v, 4)}`}`;
    const plot = Plot.plot({
      width: size, height: size, marginLeft: 34, marginTop: 8, marginBottom: 34, padding: 0, style: { fontSize: '11px' },
      x: { label: 'key position →', domain: Array.from({ length: T }, (_, k) => k), ticks },
      y: { label: '↑ query', domain: Array.from({ length: T }, (_, k) => k), ticks },
      color,
      marks: [
        Plot.frame({ stroke: '#ccc' }),
        Plot.cell(cells, { x: 'j', y: 'i', fill: 'v', inset: 0 }),
        // the hovered square, outlined; its tokens appear in the readout line and the sample strip
        Plot.cell(cells, Plot.pointer({ x: 'j', y: 'i', fill: null, stroke: '#d00', strokeWidth: 2 })),
      ],
    });
    plot.addEventListener('input', () => {
      const d = (plot as unknown as { value: Cell | null }).value;
      if (d) {
        hover.textContent = `${MODEL_NAMES[attnType]}, head ${h + 1}, ${kind === 'weights' ? 'weights' : '−det G'}: ${title(d).replace('\n', ' · ')}`;
        mark([d.i, d.j]);
      } else mark([]);
    });
    const caption = kind === 'weights' ? `head ${h + 1}: weights` : `head ${h + 1}: −det G(q, k, r)`;
    return el('figure', { class: 'map', 'data-testid': `map-${attnType}-${kind}-${h}` }, plot, el('figcaption', {}, caption));
  };

  const draw = throttled(function drawMaps() {
    if (root.hidden || !latest || !dirty) return;
    dirty = false;
    const rows: HTMLElement[] = [];
    const jobs: (() => void)[] = [];
    const generation = ++drawn;
    for (const a of ATTN_TYPES) {
      const snap = latest.maps[a];
      const grid = el('div', { class: 'map-grid' });
      const kinds: ('weights' | 'score')[] = a === 'triple' ? ['weights', 'score'] : ['weights'];
      for (const kind of kinds) {
        for (let h = 0; h < snap.heads; h++) {
          // the old figure stays until its replacement is ready, so the page never flickers
          const old = grids.querySelector(`[data-testid=map-${a}-${kind}-${h}]`);
          const slot = old ?? el('figure', { class: 'map placeholder' });
          grid.append(slot);
          jobs.push(() => slot.replaceWith(heatmap(snap, h, kind, a)));
        }
      }
      rows.push(
        el('div', { class: 'map-row' },
          el('h3', { style: `color:${MODEL_COLORS[a]}` }, `${MODEL_NAMES[a]} attention`,
            el('span', { class: 'small', 'data-testid': `induction-${a}` }, ` · weight on the copy source ${pct(snap.induction)}`)),
          grid),
      );
    }
    // one heatmap per task: a redraw of all of them never blocks the page for long
    const next = (): void => {
      if (generation !== drawn) return; // a newer redraw took over
      jobs.shift()?.();
      if (jobs.length > 0) setTimeout(next, 0);
    };
    setTimeout(next, 0);
    if (latest.maps.triple.gramScore) {
      rows.push(el('p', { class: 'small' },
        '−det G is the squared volume spanned by q_i, k_j and r_i, negated: 0 when key j lies in the plane of the query and ' +
          'its reference vector (yellow), very negative when it sticks out (dark; colours on a symlog scale). The softmax of −det G · d_head^−1.5 over each row gives the weights.'));
    }
    grids.replaceChildren(...rows);
    status.textContent = `step ${latest.step} · sequence of ${L} tokens (the model sees the first ${L - 1}; the copy starts at position ${L / 2})`;
  }, 250);

  client.on((m: ToMain) => {
    if (m.type === 'started') {
      sample = m.sample;
      L = m.L;
      drawTokens();
    } else if (m.type === 'progress' && m.maps) {
      latest = { step: m.step, maps: m.maps };
      dirty = true;
      draw();
    }
  });
  return {
    shown() {
      dirty = true;
      draw();
    },
  };
}
