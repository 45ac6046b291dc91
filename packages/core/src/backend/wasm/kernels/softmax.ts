// Emitter of the softmax kernel over one dim: per row, the max (NaN wins), e_k = exp(x_k − max) and
// their sum in float64, then e_k / sum rounded once, as the JS reference does. exp is computed here
// (wasm has no exp instruction): Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-13
// Taylor polynomial for e^r (truncation < 5e-18), and 2^n applied in two halves so that results
// down to the subnormals stay exact. It is within 2 ulp (float64) of Math.exp, so float32 outputs
// equal the reference's except when the float64 value sits within ~1e-16 of a float32 rounding
// boundary. A masked −∞ gives exactly 0 and an all-masked row NaN, as in the reference.
import { type Expr, type Fn, type Local, type ModuleBuilder, f32, f64, i32, i64, select } from '../asm.ts';

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.6931471803691238; // ln 2 to 32 bits, so that n·LN2_HI is exact for |n| < 2^20
const LN2_LO = 1.9082149292705877e-10; // ln 2 − LN2_HI

/** 2^k for an i32 k in the normal range [−1022, 1023]: the exponent field set directly. */
const pow2 = (k: Expr): Expr => f64.reinterpretI64(i64.shl(i64.extendI32(i32.add(k, i32.const(1023))), i64.extendI32(i32.const(52))));

/** e^x (float64), written into `y`; x ≤ 709 (softmax's x − max ≤ 0), NaN in → NaN out. */
export function emitExp(f: Fn, x: Local, y: Local): void {
  const n = f.local('f64', 'n'), r = f.local('f64', 'r'), k = f.local('i32', 'k'), k1 = f.local('i32', 'k1');
  f.set(n, f64.nearest(f64.mul(f.get(x), f64.const(LOG2E))));
  f.set(r, f64.sub(f64.sub(f.get(x), f64.mul(f.get(n), f64.const(LN2_HI))), f64.mul(f.get(n), f64.const(LN2_LO))));
  // e^r = Σ_{i ≤ 13} r^i / i!, Horner from the top
  let p: Expr = f64.const(1 / factorial(13));
  for (let i = 12; i >= 0; i--) p = f64.add(f64.mul(p, f.get(r)), f64.const(1 / factorial(i)));
  f.set(y, p);
  f.set(k, i32.truncSatF64(f.get(n)));
  f.set(k1, i32.shrS(f.get(k), i32.const(1)));
  f.set(y, f64.mul(f64.mul(f.get(y), pow2(f.get(k1))), pow2(i32.sub(f.get(k), f.get(k1)))));
  // below e^−745.2 the result rounds to 0 (and n would leave the range pow2 covers)
  f.set(y, select(f64.const(0), f.get(y), f64.lt(f.get(x), f64.const(-745.2))));
}

function factorial(n: number): number {
  let p = 1;
  for (let i = 2; i <= n; i++) p *= i;
  return p;
}

/**
 * softmax_<dtype>: for rows [lo, hi) of n elements, input row r at xBase + xStarts[r] stepping by sx,
 * output row r at out + outStarts[r] stepping by so: out = e^(x − max) / Σ e^(x − max).
 * `scratch` holds n float64 (the e_k of one row).
 */
export function emitSoftmax(m: ModuleBuilder, dtype: 'float32' | 'float64'): void {
  const shift = dtype === 'float32' ? 2 : 3;
  m.fn(`softmax_${dtype}`, `out[r, :] = softmax(x[r, :]) over strided ${dtype} rows, float64 max/exp/sum, one rounding`,
    ['out', 'outStarts', 'xBase', 'xStarts', 'lo', 'hi', 'n', 'so', 'sx', 'scratch'],
    (f, out, outStarts, xBase, xStarts, lo, hi, n, so, sx, scratch) => {
      const r = f.local('i32', 'r'), k = f.local('i32', 'k'), p = f.local('i32', 'p'), q = f.local('i32', 'q');
      const v = f.local('f64', 'v'), max = f.local('f64', 'max'), sum = f.local('f64', 'sum'), e = f.local('f64', 'e'), x = f.local('f64', 'x');
      const stepIn = f.let('stepIn', i32.shl(f.get(sx), i32.const(shift)));
      const stepOut = f.let('stepOut', i32.shl(f.get(so), i32.const(shift)));
      const load = (): Expr => (dtype === 'float32' ? f64.promote(f32.load(f.get(p))) : f64.load(f.get(p)));
      const rowStart = (base: Local, table: Local): Expr =>
        i32.add(f.get(base), i32.shl(i32.load(i32.add(f.get(table), i32.shl(f.get(r), i32.const(2)))), i32.const(shift)));
      f.for(r, f.get(lo), () => f.get(hi), 1, () => {
        // max over the row; NaN wins
        f.set(max, f64.const(-Infinity));
        f.set(p, rowStart(xBase, xStarts));
        f.for(k, i32.const(0), () => f.get(n), 1, () => {
          f.set(v, load());
          f.set(max, select(f.get(v), f.get(max), i32.or(f64.gt(f.get(v), f.get(max)), f64.ne(f.get(v), f.get(v)))));
          f.set(p, i32.add(f.get(p), f.get(stepIn)));
        });
        // e_k = exp(x_k − max) into scratch, and their sum in order
        f.set(sum, f64.const(0));
        f.set(p, rowStart(xBase, xStarts));
        f.set(q, f.get(scratch));
        f.for(k, i32.const(0), () => f.get(n), 1, () => {
          f.set(x, f64.sub(load(), f.get(max)));
          emitExp(f, x, e);
          f.store('f64', f.get(q), f.get(e));
          f.set(sum, f64.add(f.get(sum), f.get(e)));
          f.set(p, i32.add(f.get(p), f.get(stepIn)));
          f.set(q, i32.add(f.get(q), i32.const(8)));
        });
        // out_k = e_k / sum, rounded once
        f.set(p, rowStart(out, outStarts));
        f.set(q, f.get(scratch));
        f.for(k, i32.const(0), () => f.get(n), 1, () => {
          const y = f64.div(f64.load(f.get(q)), f.get(sum));
          if (dtype === 'float32') f.store('f32', f.get(p), f32.demote(y));
          else f.store('f64', f.get(p), y);
          f.set(p, i32.add(f.get(p), f.get(stepOut)));
          f.set(q, i32.add(f.get(q), i32.const(8)));
        });
      });
    },
  );
}
