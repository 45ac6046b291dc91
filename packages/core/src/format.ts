// toString() in PyTorch's style: `tensor([[0.1000, 2.0000], ...], shape=[2, 2], dtype=float64)`,
// summarised with `...` when a tensor has more than 1000 elements.
import type { Tensor } from './tensor.ts';
import { fmtShape } from './errors.ts';

const THRESHOLD = 1000;
const EDGE = 3;

/** How to print one number, chosen once for the whole tensor (as PyTorch's _Formatter does). */
function numberFormatter(values: number[], dtype: string): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (dtype === 'int32') return (v) => String(v);
  const finite = values.filter(Number.isFinite);
  const special = (v: number): string | null => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null);
  if (finite.every(Number.isInteger)) {
    const big = finite.some((v) => Math.abs(v) >= 1e8);
    return (v) => special(v) ?? (big ? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2') : `${v.toFixed(0)}.`);
  }
  const abs = finite.map(Math.abs).filter((v) => v > 0);
  const maxAbs = Math.max(...abs);
  const minAbs = Math.min(...abs);
  const sci = maxAbs / minAbs > 1000 || maxAbs > 1e8 || minAbs < 1e-4;
  return (v) => special(v) ?? (sci ? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2') : v.toFixed(4));
}

export function formatTensor(t: Tensor): string {
  const values = Array.from(t.data() as ArrayLike<number>);
  const summarize = values.length > THRESHOLD;
  const shape = t.shape;
  // collect printed values only, so the format fits what is shown
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const shownIndices = (d: number): (number | null)[] =>
    summarize && shape[d] > 2 * EDGE
      ? [...Array.from({ length: EDGE }, (_, i) => i), null, ...Array.from({ length: EDGE }, (_, i) => shape[d] - EDGE + i)]
      : Array.from({ length: shape[d] }, (_, i) => i);
  const shown: number[] = [];
  const gather = (d: number, base: number): void => {
    if (d === shape.length) {
      shown.push(values[base]);
      return;
    }
    for (const i of shownIndices(d)) if (i !== null) gather(d + 1, base + i * strides[d]);
  };
  gather(0, 0);
  const fmt = numberFormatter(shown, t.dtype);
  const width = Math.max(0, ...shown.map((v) => fmt(v).length));
  const indent = 'tensor('.length;
  const render = (d: number, base: number): string => {
    if (d === shape.length) return fmt(values[base]).padStart(width);
    const parts = shownIndices(d).map((i) => (i === null ? '...' : render(d + 1, base + i * strides[d])));
    const sep = d === shape.length - 1 ? ', ' : ',' + '\n'.repeat(shape.length - d - 1) + ' '.repeat(indent + d + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = shape.length === 0 ? fmt(values[0]) : render(0, 0);
  const extras = [`shape=${fmtShape(shape)}`];
  if (t.dtype !== 'float32') extras.push(`dtype=${t.dtype}`);
  if (t.device !== 'cpu') extras.push(`device=${t.device}`);
  if (t.node) extras.push(`grad_fn=<${t.node.op}>`);
  else if (t.requiresGrad) extras.push('requires_grad=True');
  return `tensor(${body}, ${extras.join(', ')})`;
}
