// Tolerance comparisons for tests: |actual − expected| ≤ atol + rtol·|expected| elementwise, NaN
// equal to NaN, infinities equal only to themselves; failures name the element and both shapes.
import { Tensor, unravelIndex, type NestedArray } from '@wedge/core';

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** Prefix of the failure message (e.g. the case name). */
  label?: string;
}

interface Flat {
  shape: number[];
  values: number[];
}

function flatten(x: Tensor | NestedArray | ArrayLike<number>): Flat {
  if (x instanceof Tensor) return { shape: [...x.shape], values: Array.from(x.data() as ArrayLike<number>) };
  if (typeof x === 'number' || typeof x === 'boolean') return { shape: [], values: [Number(x)] };
  if (!Array.isArray(x)) return { shape: [x.length], values: Array.from(x) };
  const shape: number[] = [];
  let level: unknown = x;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return { shape, values: (x as unknown[]).flat(Infinity).map(Number) };
}

/** Whether `a` is within tolerance of the expected `b`. */
export function isClose(a: number, b: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/**
 * Throw unless `actual` matches `expected` in shape and, within tolerance, in every value.
 * @example assertClose(x.softmax(-1), [[0.5, 0.5]], { rtol: 1e-6 })
 */
export function assertClose(
  actual: Tensor | NestedArray | ArrayLike<number>,
  expected: Tensor | NestedArray | ArrayLike<number>,
  opts: CloseOptions = {},
): void {
  const { rtol = 1e-5, atol = 1e-8, label = 'assertClose' } = opts;
  const a = flatten(actual);
  const b = flatten(expected);
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!same) throw new Error(`${label}: shape [${a.shape.join(', ')}] differs from expected [${b.shape.join(', ')}]`);
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let k = 0; k < a.values.length; k++) {
    const x = a.values[k];
    const y = b.values[k];
    if (isClose(x, y, rtol, atol)) continue;
    bad++;
    const excess = Number.isFinite(x - y) ? Math.abs(x - y) - (atol + rtol * Math.abs(y)) : Infinity;
    if (worst < 0 || excess > worstExcess) {
      worst = k;
      worstExcess = excess;
    }
  }
  if (bad > 0) {
    throw new Error(
      `${label}: ${bad} of ${a.values.length} values differ (rtol ${rtol}, atol ${atol}); worst at ` +
        `[${unravelIndex(worst, a.shape).join(', ')}] of shape [${a.shape.join(', ')}]: ` +
        `got ${a.values[worst]}, expected ${b.values[worst]}`,
    );
  }
}
