// Index arithmetic for generated kernels: each kernel is JavaScript source (gpu.js translates it to
// GLSL, or runs it as is in cpu mode) with every shape, stride and offset written in as a literal.
//
// Indices are carried in float32, which is exact for integers below 2^24; the backend declines any
// tensor larger than that. gpu.js turns every `/` into a float divide, and a GPU's divide may be off
// by an ulp, so integer division goes through wedgeFloorDiv: a rounded estimate, then one exact
// correction step (products and differences of integers below 2^24 are exact in float32).

/** Largest element index the generated index arithmetic handles exactly. */
export const MAX_INDEX = 2 ** 24;

/**
 * Helper functions added to every gpu.js instance, as source text (kept verbatim: a TypeScript
 * transpiler may print `1.0` as `1`, which gpu.js would then type as an integer).
 */
export const HELPER_SOURCES: readonly string[] = [
  // ⌊v / d⌋ for integer-valued v ≥ 0 and d > 0 below 2^24
  `function wedgeFloorDiv(v, d) {
    let q = Math.floor((v + 0.5) / d);
    const r = v - q * d;
    if (r < 0.0) { q = q - 1.0; }
    if (r >= d) { q = q + 1.0; }
    return q;
  }`,
  // tanh: GLSL ES 1.00 has none. A Taylor series near 0, where (1 − e^(−2|x|)) would cancel.
  `function wedgeTanh(x) {
    const ax = Math.abs(x);
    if (ax < 0.125) {
      const x2 = x * x;
      return x * (1.0 + x2 * (-0.3333333333 + x2 * (0.1333333333 - x2 * 0.0539682540)));
    }
    const e = Math.exp(-2.0 * ax);
    const t = (1.0 - e) / (1.0 + e);
    if (x < 0.0) { return -t; }
    return t;
  }`,
  // split at 0 so that neither branch overflows exp(), as the CPU backend does
  `function wedgeSigmoid(x) {
    if (x >= 0.0) { return 1.0 / (1.0 + Math.exp(-x)); }
    const e = Math.exp(x);
    return e / (1.0 + e);
  }`,
  // GLSL's pow(a, b) is exp2(b·log2 a), undefined for a < 0; JS (and the CPU backend) give
  // (−2)³ = −8, and NaN for a negative base with a fractional exponent.
  // NOTE: ∞ and NaN are made at run time (1/|a| with a = 0, √(−1 − m)): Mesa folds a literal
  // 0.0/0.0 inside a function to FLT_MAX.
  // 1ʸ = 1 for every y (NaN too) and (−1)^±∞ = 1, as C's pow and the CPU backend give.
  `function wedgePow(a, b) {
    if (a == 1.0) { return 1.0; }
    if (a == -1.0 && Math.abs(b) > 3.0e38) { return 1.0; }
    if (b == 0.0) { return 1.0; }
    if (b == 1.0) { return a; }
    if (b == 2.0) { return a * a; }
    if (b == -1.0) { return 1.0 / a; }
    if (a == 0.0) {
      if (b > 0.0) { return 0.0; }
      return 1.0 / Math.abs(a);
    }
    const m = Math.pow(Math.abs(a), b);
    if (a < 0.0) {
      if (Math.floor(b) != b) { return Math.sqrt(-1.0 - m); }
      const half = b * 0.5;
      if (Math.floor(half) != half) { return -m; }
    }
    return m;
  }`,
];

/** A number as a float literal that gpu.js types as a float (`3` would be an integer). */
export function lit(x: number): string {
  if (Number.isNaN(x)) return '(0.0 / 0.0)';
  if (x === Infinity) return '(1.0 / 0.0)';
  if (x === -Infinity) return '(-1.0 / 0.0)';
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * Merge adjacent dims that every operand walks as one (stride[d] = stride[d+1]·size[d+1]) and drop
 * size-1 dims. Returns the merged shape and each operand's strides over it.
 * @example coalesce([2, 3, 4], [[12, 4, 1], [0, 4, 1]]) // { shape: [2, 12], strides: [[12, 1], [0, 1]] }
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** An operand read at a strided position: storage offset and strides over the indexed shape. */
export interface StridedOperand {
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * Source lines that turn the float index `linear` (row-major over `shape`) into one storage offset
 * per operand, named `${prefix}0`, `${prefix}1`, …. Dims are merged first, so a contiguous operand
 * costs one addition and no division.
 */
export function emitOffsets(linear: string, shape: readonly number[], operands: readonly StridedOperand[], prefix: string): string {
  const merged = coalesce(shape, operands.map((o) => o.strides));
  const nd = merged.shape.length;
  const contiguous = (s: readonly number[]): boolean => {
    let expected = 1;
    for (let d = nd - 1; d >= 0; d--) {
      if (s[d] !== expected) return false;
      expected *= merged.shape[d];
    }
    return true;
  };
  const lines: string[] = [];
  const needCoords = operands.some((_, k) => !contiguous(merged.strides[k]));
  const coord: string[] = [];
  if (needCoords) {
    // innermost dim first: c_d = rest mod size_d, rest = rest div size_d
    let rest = linear;
    for (let d = nd - 1; d >= 0; d--) {
      const c = `${prefix}c${d}`;
      if (d === 0) {
        lines.push(`const ${c} = ${rest};`);
      } else {
        const q = `${prefix}q${d}`;
        lines.push(`const ${q} = wedgeFloorDiv(${rest}, ${lit(merged.shape[d])});`);
        lines.push(`const ${c} = ${rest} - ${q} * ${lit(merged.shape[d])};`);
        rest = q;
      }
      coord[d] = c;
    }
  }
  operands.forEach((op, k) => {
    const s = merged.strides[k];
    const terms = [lit(op.offset)];
    if (contiguous(s)) {
      terms.push(linear);
    } else {
      for (let d = 0; d < nd; d++) if (s[d] !== 0) terms.push(s[d] === 1 ? coord[d] : `${coord[d]} * ${lit(s[d])}`);
    }
    lines.push(`const ${prefix}${k} = ${terms.join(' + ')};`);
  });
  return lines.join('\n');
}
