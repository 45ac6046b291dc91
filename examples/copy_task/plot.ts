// The run's figures: vega-lite describes them, vega renders SVG headless (no canvas, no browser),
// resvg turns the SVG into a PNG. With several seeds every curve is the mean across seeds with a
// band from the lowest to the highest seed.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { JobResult } from './job.ts';
import type { LengthSummaryRow, ProbeSummaryRow } from './study.ts';

interface Band {
  model: string;
  step: number;
  series: string;
  mean: number;
  lo: number;
  hi: number;
}

/** Mean, min and max across seeds of one value per step. */
function band(model: string, series: string, perSeed: Map<number, number>[]): Band[] {
  const steps = [...new Set(perSeed.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  return steps.flatMap((step) => {
    const vs = perSeed.map((m) => m.get(step)).filter((v): v is number => v !== undefined);
    if (vs.length === 0) return [];
    return [{ model, step, series, mean: vs.reduce((a, b) => a + b, 0) / vs.length, lo: Math.min(...vs), hi: Math.max(...vs) }];
  });
}

/** Curves per model: training loss at every step, held-out loss and copy accuracy at each evaluation. */
export function curveRows(results: readonly JobResult[]): Band[] {
  const models = [...new Set(results.map((r) => r.attnType))];
  return models.flatMap((model) => {
    const rs = results.filter((r) => r.attnType === model);
    return [
      ...band(model, 'train loss', rs.map((r) => new Map(r.trainLosses.map((l, i) => [i + 1, l])))),
      ...band(model, 'eval loss', rs.map((r) => new Map(r.history.map((p) => [p.step, p.evalLoss])))),
      ...band(model, 'copy accuracy', rs.map((r) => new Map(r.history.map((p) => [p.step, p.copyAccuracy])))),
    ];
  });
}

const COLOR = { field: 'model', type: 'nominal', title: 'attention', scale: { domain: ['standard', 'triple'], range: ['#4c78a8', '#e45756'] } } as const;
const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'DejaVu Sans, sans-serif' } } as const;

/**
 * The y range of the loss panel: the data's, padded 5 %; the loss floor is drawn only when it lies
 * within that range or just below it (otherwise it would squash every curve against it).
 */
export function lossDomain(rows: readonly Band[], floor: number): { domain: [number, number]; showFloor: boolean } {
  const lo = Math.min(...rows.map((r) => r.lo));
  const hi = Math.max(...rows.map((r) => r.hi));
  const pad = 0.05 * (hi - lo || 1);
  const showFloor = floor >= lo - 0.25 * (hi - lo);
  return { domain: [Math.min(lo, showFloor ? floor : lo) - pad, hi + pad], showFloor };
}

/** The vega-lite spec of the curves: loss (train every step, held-out each evaluation) beside copy accuracy. */
export function curvesSpec(results: readonly JobResult[], title: string, lossFloor: number): TopLevelSpec {
  const rows = curveRows(results);
  const seeds = new Set(results.map((r) => r.seed)).size;
  const loss = rows.filter((r) => r.series !== 'copy accuracy');
  const { domain, showFloor } = lossDomain(loss, lossFloor);
  const x = { field: 'step', type: 'quantitative', title: 'step' } as const;
  const bandLayer = (values: Band[], y: object) =>
    seeds > 1 ? [{ data: { values }, mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { field: 'lo', type: 'quantitative', ...y }, y2: { field: 'hi' }, color: COLOR, detail: { field: 'series' } } }] : [];
  const floorLayers = showFloor
    ? [
        {
          data: { values: [{ floor: lossFloor, label: `floor ${lossFloor.toFixed(3)}` }] },
          layer: [
            { mark: { type: 'rule', color: 'gray', strokeDash: [2, 2] }, encoding: { y: { field: 'floor', type: 'quantitative' } } },
            { mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 3, color: 'gray', x: 0 }, encoding: { y: { field: 'floor', type: 'quantitative' }, text: { field: 'label' } } },
          ],
        },
      ]
    : [];
  const lossY = { title: 'loss', scale: { domain, zero: false, nice: false, clamp: true } };
  const accRows = rows.filter((r) => r.series === 'copy accuracy');
  const accY = { title: 'accuracy', axis: { format: '%' }, scale: { domain: [0, 1] } };
  const bandNote = seeds > 1 ? ` · mean of ${seeds} seeds, band: min–max` : '';
  return {
    ...BASE,
    title: { text: title, subtitle: `train loss every step, held-out loss and copy accuracy at each evaluation${bandNote}${showFloor ? '' : ` · loss floor ${lossFloor.toFixed(3)} is below the axis`}`, fontSize: 13 },
    hconcat: [
      {
        width: 360,
        height: 240,
        title: 'cross-entropy (nats)',
        layer: [
          ...bandLayer(loss, lossY),
          {
            data: { values: loss },
            mark: { type: 'line', strokeWidth: 1.4, clip: true },
            encoding: {
              x,
              y: { field: 'mean', type: 'quantitative', ...lossY },
              color: COLOR,
              strokeDash: { field: 'series', type: 'nominal', title: 'curve', sort: ['train loss', 'eval loss'] },
            },
          },
          ...floorLayers,
        ],
      },
      {
        width: 360,
        height: 240,
        title: 'copy accuracy (copied half, held-out set)',
        layer: [
          ...bandLayer(accRows, accY),
          { data: { values: accRows }, mark: { type: 'line', strokeWidth: 1.6, point: { size: 14 } }, encoding: { x, y: { field: 'mean', type: 'quantitative', ...accY }, color: COLOR } },
          { data: { values: [{ y: 0.99 }] }, mark: { type: 'rule', color: 'gray', strokeDash: [2, 2] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** Mean ± its 95 % interval (error bars) of a per-model table, as long rows. */
const withCi = (model: string, x: number, mean: number, ci: [number, number] | null) => ({ model, x, mean, lo: ci?.[0] ?? mean, hi: ci?.[1] ?? mean });

/** The loud-key probe: captured attention mass and copy accuracy against the magnitude m (log axis). */
export function probeSpec(probe: Partial<Record<string, ProbeSummaryRow[]>>, baseline: Partial<Record<string, ProbeSummaryRow>>, title: string): TopLevelSpec {
  const mass = Object.entries(probe).flatMap(([model, rows]) => rows!.map((r) => withCi(model, r.magnitude, r.attentionMass, r.attentionMassCi95)));
  const acc = Object.entries(probe).flatMap(([model, rows]) => rows!.map((r) => withCi(model, r.magnitude, r.copyAccuracy, r.copyAccuracyCi95)));
  const base = (f: 'attentionMass' | 'copyAccuracy') => Object.entries(baseline).map(([model, r]) => ({ model, y: r![f] }));
  const x = { field: 'x', type: 'quantitative', title: 'loud magnitude m', scale: { type: 'log' } } as const;
  const panel = (values: object[], baseValues: object[], yTitle: string, format: string, domain?: [number, number]) => ({
    width: 320,
    height: 220,
    title: yTitle,
    layer: [
      { data: { values }, mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle, axis: { format }, ...(domain ? { scale: { domain } } : {}) }, y2: { field: 'hi' }, color: COLOR } },
      { data: { values }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color: COLOR } },
      { data: { values: baseValues }, mark: { type: 'rule', strokeDash: [3, 3], opacity: 0.7 }, encoding: { y: { field: 'y', type: 'quantitative' }, color: COLOR } },
    ],
  });
  return {
    ...BASE,
    title: { text: title, subtitle: 'mean over seeds, bars: 95 % Student-t interval; dashed: unperturbed (m = 0)', fontSize: 13 },
    hconcat: [panel(mass, base('attentionMass'), 'attention captured by the loud key', '.1%'), panel(acc, base('copyAccuracy'), 'copy accuracy', '.0%', [0, 1])],
  } as TopLevelSpec;
}

/** Length generalisation: copy accuracy against the evaluated sequence length. */
export function lengthsSpec(lengths: Partial<Record<string, LengthSummaryRow[]>>, title: string): TopLevelSpec {
  const values = Object.entries(lengths).flatMap(([model, rows]) => rows!.map((r) => withCi(model, r.seqLen, r.copyAccuracy, r.copyAccuracyCi95)));
  const x = { field: 'x', type: 'quantitative', title: 'sequence length', scale: { type: 'log', base: 2 } } as const;
  return {
    ...BASE,
    title: { text: title, subtitle: 'mean over seeds, bars: 95 % Student-t interval; the first point is the training length', fontSize: 13 },
    width: 380,
    height: 240,
    layer: [
      { data: { values }, mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'copy accuracy', axis: { format: '%' }, scale: { domain: [0, 1] } }, y2: { field: 'hi' }, color: COLOR } },
      { data: { values }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color: COLOR } },
    ],
  } as TopLevelSpec;
}

/**
 * Render a spec as SVG text and PNG bytes.
 * @example const { svg, png } = await render(curvesSpec(results, 'copy task', 1.364));
 */
export async function render(spec: TopLevelSpec): Promise<{ svg: string; png: Uint8Array }> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  return { svg, png };
}
