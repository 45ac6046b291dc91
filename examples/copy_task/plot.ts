// The training curves as a figure: vega-lite describes it, vega renders SVG headless (no canvas,
// no browser), resvg turns the SVG into a PNG.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ComparisonResult } from '@wedge/models';

interface Row {
  model: string;
  step: number;
  series: string;
  value: number;
}

/** Long-format rows of every curve: losses (train, eval) and copy accuracy per model. */
function rowsOf(result: ComparisonResult): Row[] {
  const rows: Row[] = [];
  for (const m of result.models) {
    for (const p of m.history) {
      if (p.trainLoss !== null) rows.push({ model: m.attnType, step: p.step, series: 'train loss', value: p.trainLoss });
      rows.push({ model: m.attnType, step: p.step, series: 'eval loss', value: p.evalLoss });
      rows.push({ model: m.attnType, step: p.step, series: 'copy accuracy', value: p.copyAccuracy });
    }
  }
  return rows;
}

/** The vega-lite spec: loss curves (with the loss floor) beside copy-accuracy curves (with 99 %). */
export function plotSpec(result: ComparisonResult, title: string): TopLevelSpec {
  const rows = rowsOf(result);
  const color = { field: 'model', type: 'nominal', title: 'attention', scale: { domain: ['standard', 'triple'], range: ['#4c78a8', '#e45756'] } } as const;
  const x = { field: 'step', type: 'quantitative', title: 'step' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 13 },
    background: 'white',
    config: { font: 'DejaVu Sans, sans-serif' },
    hconcat: [
      {
        width: 360,
        height: 240,
        title: 'cross-entropy (nats)',
        layer: [
          {
            data: { values: rows.filter((r) => r.series !== 'copy accuracy') },
            mark: { type: 'line', strokeWidth: 1.6 },
            encoding: {
              x,
              y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: false } },
              color,
              strokeDash: { field: 'series', type: 'nominal', title: 'curve', sort: ['train loss', 'eval loss'] },
            },
          },
          {
            data: { values: [{ floor: result.lossFloor, label: `floor ${result.lossFloor.toFixed(3)}` }] },
            layer: [
              { mark: { type: 'rule', color: 'gray', strokeDash: [2, 2] }, encoding: { y: { field: 'floor', type: 'quantitative' } } },
              {
                mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 3, color: 'gray', x: 0 },
                encoding: { y: { field: 'floor', type: 'quantitative' }, text: { field: 'label' } },
              },
            ],
          },
        ],
      },
      {
        width: 360,
        height: 240,
        title: 'copy accuracy (copied half, held-out set)',
        layer: [
          {
            data: { values: rows.filter((r) => r.series === 'copy accuracy') },
            mark: { type: 'line', strokeWidth: 1.6, point: { size: 14 } },
            encoding: { x, y: { field: 'value', type: 'quantitative', title: 'accuracy', axis: { format: '%' }, scale: { domain: [0, 1] } }, color },
          },
          {
            data: { values: [{ y: 0.99 }] },
            mark: { type: 'rule', color: 'gray', strokeDash: [2, 2] },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/**
 * Render the comparison as SVG text and PNG bytes.
 * @example const { svg, png } = await renderPlot(result, 'copy task, seed 0');
 */
export async function renderPlot(result: ComparisonResult, title: string): Promise<{ svg: string; png: Uint8Array }> {
  const view = new vega.View(vega.parse(compile(plotSpec(result, title)).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  return { svg, png };
}
