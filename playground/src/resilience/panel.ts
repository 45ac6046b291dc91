// Panel 3, Resilience: the seed's loud-key table, live, with the vectors drawn.
import * as Plot from '@observablehq/plot';
import { ATTN_TYPES, type AttnType, type LoudProbeRow } from '@wedge/models';
import type { TrainerClient } from '../train/client.ts';
import type { ToMain } from '../train/protocol.ts';
import { MODEL_COLORS, MODEL_NAMES } from '../train/panel.ts';
import { el, num, panelIntro, pct } from '../ui.ts';
import { type ScoreRow, fmt4, loudKey, matchWeight, resilienceRows, trueMatch } from './scores.ts';

export function mountResilience(root: HTMLElement, client: TrainerClient): void {
  root.append(
    panelIntro(
      'Resilience',
      'A query q and a reference r span a plane; the true match lies in it, a "loud" key sticks out of it with a large norm ' +
        'and leans a little towards q. The table is the seed’s, recomputed as you move the sliders: the dot product only sees ' +
        'the lean, the Gram score −det G punishes the loud key by the square of its magnitude.',
    ),
  );
  const mag = el('input', { type: 'range', min: '0', max: '2', step: '0.01', value: '1', 'data-testid': 'res-magnitude' });
  const leak = el('input', { type: 'range', min: '0', max: '2', step: '0.01', value: '0.1', 'data-testid': 'res-leak' });
  const magOut = el('output', {});
  const leakOut = el('output', {});
  const controls = el('div', { class: 'sliders' },
    el('label', {}, el('span', {}, 'loud key magnitude m'), mag, magOut),
    el('label', {}, el('span', {}, 'leak towards q'), leak, leakOut),
  );
  const table = el('table', { class: 'res-table', 'data-testid': 'res-table' });
  const verdict = el('p', { class: 'verdict', 'data-testid': 'res-verdict' });
  const vectors = el('div', { class: 'chart', 'data-testid': 'res-vectors' });
  const curve = el('div', { class: 'chart', 'data-testid': 'res-curve' });
  root.append(
    controls,
    el('div', { class: 'res-layout' }, el('div', {}, table, verdict), el('div', { class: 'res-plots' }, vectors, curve)),
    el('p', { class: 'small' }, 'q = e₀, r = e₁, true match k = (q + r)/‖q + r‖, loud key k = m·e₂ + leak·q, all in float32. −det G(q, k, r) = ' +
      '−(qq·kk·rr + 2·qk·kr·qr − qq·kr² − kk·qr² − rr·qk²); for the loud key it is −m² whatever the leak, while q·k = leak whatever m.'),
  );

  const magnitude = (): number => Number((10 ** Number(mag.value)).toPrecision(3));

  const drawTable = (rows: ScoreRow[], mine: ScoreRow): void => {
    const head = el('tr', {}, el('th', {}, 'Mag(K)'), el('th', {}, 'Dot(Q,K)'), el('th', {}, 'Gram(Q,K,R)'), el('th', {}, 'Result'));
    const line = (r: ScoreRow, cls = ''): HTMLTableRowElement =>
      el('tr', { class: cls },
        el('td', {}, r.magnitude === 'ref' ? '1.0 (Ref)' : cls === 'mine' ? `${num(r.magnitude)} (slider)` : r.magnitude.toFixed(1)),
        el('td', {}, fmt4(r.dot)), el('td', {}, fmt4(r.gram)),
        el('td', {}, r.magnitude === 'ref' ? 'True Match' : 'Loud Mismatch'));
    table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows.map((r, i) => line(r, i === 0 ? 'ref' : '')), line(mine, 'mine')));
  };

  const drawVectors = (match: ScoreRow, mine: ScoreRow): void => {
    // an oblique view: e₀ (q) to the right, e₁ (r) into the page, e₂ (out of the plane) up
    const P = (v: number[]): [number, number] => [v[0] + 0.5 * v[1], 0.4 * v[1] + v[2]];
    const norm = Math.hypot(...mine.k);
    const cap = 2;
    const drawn = norm > cap ? mine.k.map((x) => (x * cap) / norm) : mine.k;
    const arrows = [
      { name: 'q', v: [1, 0, 0, 0], color: '#333' },
      { name: 'r', v: [0, 1, 0, 0], color: '#333' },
      { name: 'true match', v: match.k, color: '#2a8a3a' },
      { name: norm > cap ? `loud key (‖k‖ = ${num(norm, 3)}, shortened)` : 'loud key', v: drawn, color: '#c0392b' },
    ].map((a) => ({ ...a, x2: P(a.v)[0], y2: P(a.v)[1] }));
    const plane = [[-0.3, -0.3], [1.5, -0.3], [1.5, 1.3], [-0.3, 1.3], [-0.3, -0.3]].map(([a, b]) => P([a, b, 0]));
    vectors.replaceChildren(Plot.plot({
      width: 380, height: 300, x: { axis: null, domain: [-0.6, 2.6] }, y: { axis: null, domain: [-0.4, 2.2] }, style: { fontSize: '12px' },
      marks: [
        Plot.line(plane, { x: (d: number[]) => d[0], y: (d: number[]) => d[1], z: null, fill: '#e8eef8', stroke: '#9ab' }),
        Plot.text([P([-0.3, -0.3, 0])], { x: (d: number[]) => d[0], y: (d: number[]) => d[1], text: () => 'plane of q and r', textAnchor: 'start', fill: '#678', dy: 12 }),
        Plot.arrow(arrows, { x1: 0, y1: 0, x2: 'x2', y2: 'y2', stroke: 'color', strokeWidth: 2, headLength: 10 }),
        Plot.text(arrows, { x: 'x2', y: 'y2', text: 'name', fill: 'color', dx: 6, dy: -6, textAnchor: 'start' }),
      ],
    }));
  };

  const drawCurve = (leakValue: number, match: ScoreRow, mine: ScoreRow): void => {
    const ms = Array.from({ length: 61 }, (_, i) => 10 ** (i / 30)); // 1 … 100
    const data = ms.flatMap((m) => {
      const r = loudKey(m, leakValue);
      return [{ m, score: r.dot, kind: 'dot product q·k' }, { m, score: r.gram, kind: 'Gram score −det G' }];
    });
    curve.replaceChildren(el('p', { class: 'small chart-note' }, 'dashed: the true match’s two scores · red line: the slider’s m'), Plot.plot({
      width: 380, height: 260, marginLeft: 50, style: { fontSize: '12px' },
      x: { type: 'log', label: 'loud key magnitude m', domain: [1, 100] },
      y: { type: 'symlog', label: 'score (symlog scale)', grid: true, ticks: [1, 0, -1, -10, -100, -1000, -10000], tickFormat: (d: number) => String(d) },
      color: { legend: true, domain: ['dot product q·k', 'Gram score −det G'], range: ['#1f6fb4', '#d2691e'] },
      marks: [
        Plot.line(data, { x: 'm', y: 'score', stroke: 'kind', z: 'kind', strokeWidth: 2 }),
        Plot.ruleY([match.dot], { stroke: '#1f6fb4', strokeDasharray: '4 3' }),
        Plot.ruleY([match.gram], { stroke: '#d2691e', strokeDasharray: '4 3' }),
        Plot.ruleX([Math.min(100, Math.max(1, mine.magnitude as number))], { stroke: '#c0392b' }),
      ],
    }));
  };

  const update = (): void => {
    const m = magnitude();
    const l = Number(leak.value);
    magOut.textContent = num(m);
    leakOut.textContent = l.toFixed(2);
    const rows = resilienceRows(l);
    const match = trueMatch();
    const mine = loudKey(m, l);
    drawTable(rows, mine);
    const byDot = matchWeight(match.dot, mine.dot);
    const byGram = matchWeight(match.gram, mine.gram);
    verdict.textContent =
      `Softmax over the two keys: the dot product gives the true match ${pct(byDot)} of the weight ` +
      `(${byDot >= 0.5 ? 'it wins' : 'the loud key wins'}), the Gram score gives it ${pct(byGram)} (${byGram >= 0.5 ? 'it wins' : 'the loud key wins'}).`;
    drawVectors(match, mine);
    drawCurve(l, match, mine);
  };
  mountProbe(root, client);
  mag.oninput = update;
  leak.oninput = update;
  update();
}

/** The same question asked of the trained models: the study's loud-key probe (probeLoudKeys). */
function mountProbe(root: HTMLElement, client: TrainerClient): void {
  const button = el('button', { type: 'button', class: 'primary', 'data-testid': 'res-probe' }, 'Probe the trained models');
  const status = el('p', { class: 'small', 'data-testid': 'res-probe-status' }, 'Train in panel 1 first (or load checkpoints there), then probe.');
  const table = el('table', { class: 'res-table', 'data-testid': 'res-probe-table' });
  const chart = el('div', { class: 'chart', 'data-testid': 'res-probe-chart', hidden: true });
  root.append(
    el('h3', { class: 'probe-title' }, 'The trained models, with a loud key planted'),
    el('p', { class: 'what' },
      'One earlier key of each held-out sequence gets an extra component of m times a typical key’s length, in a fixed random ' +
        'direction, in every head. The columns show how much attention that position then steals from the copy queries that ' +
        'should read elsewhere, and the copy accuracy that is left.'),
    el('div', { class: 'buttons' }, button), status,
    el('div', { class: 'res-layout' }, table, chart),
  );
  button.onclick = () => {
    status.textContent = 'probing…';
    client.send({ type: 'probe' });
  };
  const draw = (step: number, rows: Record<AttnType, LoudProbeRow[]>): void => {
    const head = el('tr', {}, el('th', {}, 'm'), ...ATTN_TYPES.flatMap((a) => [el('th', {}, `${MODEL_NAMES[a]}: stolen attention`), el('th', {}, 'copy acc.')]));
    const body = rows.standard.map((r, i) =>
      el('tr', {}, el('td', {}, r.magnitude === 0 ? '0 (none)' : String(r.magnitude)),
        ...ATTN_TYPES.flatMap((a) => [el('td', {}, pct(rows[a][i].attentionMass)), el('td', {}, pct(rows[a][i].copyAccuracy))])));
    table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
    const data = ATTN_TYPES.flatMap((a) => rows[a].filter((r) => r.magnitude > 0).map((r) => ({ m: r.magnitude, mass: r.attentionMass, model: MODEL_NAMES[a] })));
    chart.hidden = false;
    chart.replaceChildren(Plot.plot({
      width: 380, height: 240, marginLeft: 50, style: { fontSize: '12px' },
      x: { type: 'log', label: 'loud key magnitude m' },
      y: { label: 'stolen attention (%)', grid: true, domain: [0, 100] },
      color: { legend: true, domain: ATTN_TYPES.map((a) => MODEL_NAMES[a]), range: ATTN_TYPES.map((a) => MODEL_COLORS[a]) },
      marks: [
        Plot.line(data, { x: 'm', y: (d: { mass: number }) => 100 * d.mass, stroke: 'model', z: 'model', strokeWidth: 2 }),
        Plot.dot(data, { x: 'm', y: (d: { mass: number }) => 100 * d.mass, fill: 'model', r: 3 }),
      ],
    }));
    status.textContent = `models at step ${step}, on the held-out set of panel 1 (probe seed = seed + 4)`;
  };
  client.on((m: ToMain) => {
    if (m.type === 'probed') draw(m.step, m.rows);
    else if (m.type === 'error' && m.about === 'probe') status.textContent = m.message;
  });
}
