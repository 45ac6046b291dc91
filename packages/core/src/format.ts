// toString() in PyTorch's style: `tensor([[0.1000, 2.0000], ...], shape=[2, 2], dtype=float64)`.
// The values part follows torch/_tensor_str.py (1.13) exactly: one number format chosen for the
// whole tensor, lines wrapped at 80 columns, and `...` elision when there are over 1000 elements.
import type { Tensor } from './tensor.ts';
import { fmtShape } from './errors.ts';

const THRESHOLD = 1000; // summarise tensors with more elements than this
const EDGE = 3; // items kept at each end of a summarised dim
const LINEWIDTH = 80;
const PRECISION = 4;

/**
 * Python's '{:.Nf}'.format(v): the exact binary value rounded half to even (JS's toFixed rounds
 * ties away from zero), and a sign kept on negative zero.
 * @example pyFixed(0.03125, 4) // '0.0312' (JS's toFixed gives '0.0313')
 */
export function pyFixed(v: number, digits: number): string {
  if (!Number.isFinite(v)) return special(v);
  const negative = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  let s = a.toFixed(digits);
  // NOTE: a tie is exact: the decimal expansion stops at the first dropped digit, a 5. 25 more
  // digits tell a true tie from a near one for any double this format prints (|v| < 1e21).
  if (a < 1e21) {
    const long = a.toFixed(Math.min(100, digits + 25));
    const kept = long.slice(0, long.length - 25);
    if (long.slice(long.length - 25) === '5' + '0'.repeat(24)) {
      const lastDigit = Number(kept.replace('.', '').slice(-1));
      if (lastDigit % 2 === 0) s = kept.endsWith('.') ? kept.slice(0, -1) : kept;
    }
  }
  return (negative ? '-' : '') + s;
}

/**
 * Python's '{:.Ne}'.format(v): half-to-even mantissa, and at least two exponent digits.
 * @example pyExp(1, 4) // '1.0000e+00'
 */
export function pyExp(v: number, digits: number): string {
  if (!Number.isFinite(v)) return special(v);
  const negative = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  let s = a.toExponential(digits);
  const long = a.toExponential(digits + 20);
  const mantissa = long.slice(0, long.indexOf('e'));
  if (mantissa.slice(mantissa.length - 20) === '5' + '0'.repeat(19)) {
    const kept = mantissa.slice(0, mantissa.length - 20);
    if (Number(kept.replace('.', '').slice(-1)) % 2 === 0) s = (kept.endsWith('.') ? kept.slice(0, -1) : kept) + long.slice(long.indexOf('e'));
  }
  return (negative ? '-' : '') + s.replace(/e([+-])(\d)$/, 'e$10$2');
}

const special = (v: number): string => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');

interface Formatter {
  readonly width: number;
  format(v: number): string;
}

/**
 * One number format for the whole tensor (torch's _Formatter): integers-as-floats print as `3.`;
 * scientific notation when the nonzero finite magnitudes span over 1000×, exceed 1e8, or (for
 * non-integers) go below 1e-4; otherwise 4 decimals. The width counts nonzero finite values only.
 */
function formatterFor(values: readonly number[], dtype: string): Formatter {
  if (dtype === 'bool' || dtype === 'int32') {
    const str = dtype === 'bool' ? (v: number) => (v ? 'True' : 'False') : (v: number) => String(v);
    const width = values.reduce((w, v) => Math.max(w, str(v).length), 1);
    return { width, format: (v) => str(v).padStart(width) };
  }
  const nonzero = values.filter((v) => Number.isFinite(v) && v !== 0);
  let intMode = true;
  let sci = false;
  let width = 1;
  if (nonzero.length > 0) {
    const abs = nonzero.map(Math.abs);
    const lo = abs.reduce((a, b) => Math.min(a, b));
    const hi = abs.reduce((a, b) => Math.max(a, b));
    intMode = nonzero.every((v) => v === Math.ceil(v));
    sci = hi / lo > 1000 || hi > 1e8 || (!intMode && lo < 1e-4);
    const widthOf = sci
      ? (v: number) => pyExp(v, PRECISION).length
      : intMode
        ? (v: number) => pyFixed(v, 0).length + 1
        : (v: number) => pyFixed(v, PRECISION).length;
    width = nonzero.reduce((w, v) => Math.max(w, widthOf(v)), width);
  }
  const format = (v: number): string => {
    if (sci) return pyExp(v, PRECISION);
    if (intMode) return pyFixed(v, 0) + (Number.isFinite(v) ? '.' : '');
    return pyFixed(v, PRECISION);
  };
  return { width, format: (v) => format(v).padStart(width) };
}

/**
 * The values part of toString(): `[[1., 2.],\n        [3., 4.]]`, exactly as PyTorch prints them.
 * @example formatValues(tensor([1.5, -2])) // '[ 1.5000, -2.0000]'
 */
export function formatValues(t: Tensor): string {
  const shape = t.shape;
  // NOTE: an empty tensor prints `[]` whatever its shape (PyTorch adds the size): walking its
  // dims would visit 2³¹ rows of nothing for [2³¹, 0].
  if (t.size === 0) return '[]';
  const summarize = t.size > THRESHOLD;
  // read through the strides: only the printed elements are touched, never a full copy
  const storage = t.storage.read();
  const value = (offset: number): number => storage[offset];
  const strides = t.strides;
  // indices printed along dim d: all, or the first and last EDGE with null for the elision
  const shownIndices = (d: number): (number | null)[] =>
    summarize && shape[d] > 2 * EDGE
      ? [...Array.from({ length: EDGE }, (_, i) => i), null, ...Array.from({ length: EDGE }, (_, i) => shape[d] - EDGE + i)]
      : Array.from({ length: shape[d] }, (_, i) => i);

  // the format is chosen from the printed values only, as PyTorch's get_summarized_data does
  const shown: number[] = [];
  const collect = (d: number, base: number): void => {
    if (d === shape.length) {
      shown.push(value(base));
      return;
    }
    for (const i of shownIndices(d)) if (i !== null) collect(d + 1, base + i * strides[d]);
  };
  collect(0, t.offset);
  const fmt = formatterFor(shown, t.dtype);

  const render = (d: number, base: number, indent: number): string => {
    const picks = shownIndices(d);
    if (d === shape.length - 1) {
      // a row: as many elements per line as fit in LINEWIDTH (each takes width + ', ')
      const items = picks.map((i) => (i === null ? ' ...' : fmt.format(value(base + i * strides[d]))));
      const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (fmt.width + 2)));
      const lines: string[] = [];
      for (let k = 0; k < items.length; k += perLine) lines.push(items.slice(k, k + perLine).join(', '));
      return `[${lines.join(',\n' + ' '.repeat(indent + 1))}]`;
    }
    const parts = picks.map((i) => (i === null ? '...' : render(d + 1, base + i * strides[d], indent + 1)));
    return `[${parts.join(',' + '\n'.repeat(shape.length - d - 1) + ' '.repeat(indent + 1))}]`;
  };
  const indent = 'tensor('.length;
  return shape.length === 0 ? fmt.format(value(t.offset)) : render(0, t.offset, indent);
}

export function formatTensor(t: Tensor): string {
  const extras = [`shape=${fmtShape(t.shape)}`];
  if (t.dtype !== 'float32') extras.push(`dtype=${t.dtype}`);
  if (t.device !== 'cpu') extras.push(`device=${t.device}`);
  if (t.node) extras.push(`grad_fn=<${t.node.op}>`);
  else if (t.requiresGrad) extras.push('requires_grad=True');
  return `tensor(${formatValues(t)}, ${extras.join(', ')})`;
}
