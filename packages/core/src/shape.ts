// Shape arithmetic: sizes, contiguous strides, broadcasting and axis normalisation.
import { type DType, type TypedArray, allocate } from './dtype.ts';
import { WedgeError, describeValue, fmtShape } from './errors.ts';

/** A tensor's size per dim. @example const s: Shape = [2, 3]; */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar's []). @example sizeOf([2, 3, 4]) // 24 */
export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/**
 * The most elements one tensor may hold: storage positions are int32 (the CPU backend's strided
 * offsets, the index kernels), so a larger buffer could not be addressed.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

const BYTES: Record<DType, number> = { bool: 1, int32: 4, float32: 4, float64: 8 };

/** `4000000000000 bytes (3.6 TiB)` */
function fmtBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let unit = '';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit === '' ? `${n} bytes` : `${n} bytes (${v.toFixed(1)} ${unit})`;
}

/**
 * Check that `shape` is a list of non-negative integer sizes whose product one tensor can hold,
 * or throw naming the op, the shape and (for a size too large) the elements and bytes it needs.
 * @example checkShape('zeros', [1e6, 1e6]) // throws: … 1000000000000 elements …
 */
export function checkShape(op: string, shape: unknown, dtype: DType = 'float32'): asserts shape is Shape {
  if (!Array.isArray(shape)) {
    throw new WedgeError(`${op}: shape must be an array of sizes, got ${describeValue(shape)}`);
  }
  const bad = shape.findIndex((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0);
  if (bad >= 0) {
    throw new WedgeError(
      `${op}: invalid shape [${shape.map(describeValue).join(', ')}]: size ${describeValue(shape[bad])} at dim ${bad} ` +
        `is not a non-negative integer`,
    );
  }
  checkSize(op, shape, dtype);
}

/** Throw when a tensor of `shape` would hold more than MAX_ELEMENTS elements. */
export function checkSize(op: string, shape: Shape, dtype: DType): void {
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) {
    throw new WedgeError(
      `${op}: shape ${fmtShape(shape)} has ${n} elements, ${fmtBytes(n * BYTES[dtype])} as ${dtype}; ` +
        `one tensor holds at most ${MAX_ELEMENTS} elements`,
    );
  }
}

/**
 * Zeroed storage for a tensor of `shape`, with the shape checked first; running out of memory is
 * a WedgeError naming the op, the shape and the bytes asked for.
 */
export function allocateFor(op: string, dtype: DType, shape: Shape): TypedArray {
  checkSize(op, shape, dtype);
  const n = sizeOf(shape);
  try {
    return allocate(dtype, n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new WedgeError(`${op}: cannot allocate ${fmtBytes(n * BYTES[dtype])} for ${dtype} ${fmtShape(shape)} (${e.message})`);
  }
}

/** Row-major strides of a contiguous tensor of `shape`. @example contiguousStrides([2, 3, 4]) // [12, 4, 1] */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export const sameShape = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * NumPy/PyTorch broadcasting: align from the right; sizes must match or one must be 1.
 * @example broadcastShapes('add', [4, 1, 3], [5, 1]) // [4, 5, 3]
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let i = 1; i <= rank; i++) {
    for (const s of shapes) {
      const d = s.length - i >= 0 ? s[s.length - i] : 1;
      const o = out[rank - i];
      if (d === o || d === 1) continue;
      if (o === 1) {
        out[rank - i] = d;
        continue;
      }
      throw new WedgeError(
        `${op}: shapes cannot broadcast: ${shapes.map(fmtShape).join(' vs ')} ` +
          `(axis ${-i}: ${o} ≠ ${d})`,
      );
    }
  }
  return out;
}

/**
 * The multi-index of flat row-major position `k` in `shape`.
 * @example unravelIndex(5, [2, 3]) // [1, 2]
 */
export function unravelIndex(k: number, shape: Shape): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = k % shape[d];
    k = Math.floor(k / shape[d]);
  }
  return index;
}

/** Turn a possibly negative axis into 0..rank-1, or throw naming the op and shape. */
export function normalizeDim(op: string, dim: number, rank: number, shape?: Shape): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    const where = shape ? ` of a tensor of shape ${fmtShape(shape)}` : ` (rank ${rank})`;
    throw new WedgeError(`${op}: dim ${dim} out of range [${-r}, ${r - 1}]${where}`);
  }
  return dim < 0 ? dim + r : dim;
}

/** Normalise a list of axes (undefined = all), sorted and without repeats. */
export function normalizeDims(op: string, dims: number | readonly number[] | undefined, shape: Shape): number[] {
  if (dims === undefined) return shape.map((_, i) => i);
  const list = typeof dims === 'number' ? [dims] : [...dims];
  const out = list.map((d) => normalizeDim(op, d, shape.length, shape));
  if (shape.length === 0) return []; // a 0-d tensor accepts dim 0 / -1 and has nothing to reduce
  if (new Set(out).size !== out.length) {
    throw new WedgeError(`${op}: dim ${JSON.stringify(list)} repeats an axis of shape ${fmtShape(shape)}`);
  }
  return out.sort((a, b) => a - b);
}
