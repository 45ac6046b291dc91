// Emitters of the transcendental functions wasm lacks (exp, log) in float64, shared by softmax,
// logSoftmax and the float32 elementwise kernels exp / log / tanh / sigmoid. Each is within 2 ulp
// (float64) of Math.exp / Math.log, so a float32 result — computed in float64 and rounded once, as
// the JS reference rounds fround(Math.exp(x)) — equals the reference's except when the float64
// value sits within ~2 ulp (float64) of a float32 rounding boundary (then it is 1 ulp off; about
// one value in 10⁸).
//   exp: Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-13 Taylor polynomial for
//        e^r (truncation < 5e-18), 2^n applied in two halves so that results down to the
//        subnormals stay exact; 0 below −745.2, +∞ above 709.78, NaN for NaN.
//   log: x = m·2^e with m in [√½, √2) (subnormals scaled by 2^54 first), log m = 2·atanh(s) with
//        s = (m − 1)/(m + 1), |s| ≤ 0.172, an odd series to s^23 (truncation < 1e-18) arranged as
//        fdlibm does, plus e·ln2 in two parts; log 0 = −∞, log x<0 = NaN, log +∞ = +∞, NaN → NaN.
import { type Expr, type Fn, type Local, type ModuleBuilder, f32, f64, i32, i64, select } from '../asm.ts';

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.6931471803691238; // ln 2 to 32 bits, so that n·LN2_HI is exact for |n| < 2^20
const LN2_LO = 1.9082149292705877e-10; // ln 2 − LN2_HI
/** Above this e^x overflows float64. */
export const EXP_OVERFLOW = 709.782712893384;

/** 2^k for an i32 k in the normal range [−1022, 1023]: the exponent field set directly. */
const pow2 = (k: Expr): Expr => f64.reinterpretI64(i64.shl(i64.extendI32(i32.add(k, i32.const(1023))), i64.extendI32(i32.const(52))));

/** e^x (float64) of the f64 local `x`, written into `y`. */
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
  // below e^−745.2 the result rounds to 0, above 709.78 to +∞ (and n would leave the range pow2 covers)
  f.set(y, select(f64.const(0), f.get(y), f64.lt(f.get(x), f64.const(-745.2))));
  f.set(y, select(f64.const(Infinity), f.get(y), f64.gt(f.get(x), f64.const(EXP_OVERFLOW))));
}

/** ln x (float64) of the f64 local `x`, written into `y`. */
export function emitLog(f: Fn, x: Local, y: Local): void {
  const m = f.local('f64', 'm'), e = f.local('i32', 'e'), s = f.local('f64', 's'), s2 = f.local('f64', 's2');
  const bits = f.local('i64', 'bits'), sub = f.local('i32', 'sub');
  // subnormal x: scale by 2^54 so that the exponent field holds all of it
  f.set(sub, f64.lt(f.get(x), f64.const(2.2250738585072014e-308)));
  f.set(m, select(f64.mul(f.get(x), f64.const(2 ** 54)), f.get(x), f.get(sub)));
  f.set(bits, i64.reinterpretF64(f.get(m)));
  f.set(e, i32.sub(i32.and(i32.wrapI64(i64.shrU(f.get(bits), i64.const(52n))), i32.const(0x7ff)), select(i32.const(1023 + 54), i32.const(1023), f.get(sub))));
  // m in [1, 2), then [√½, √2)
  f.set(m, f64.reinterpretI64(i64.or(i64.and(f.get(bits), i64.const(0x000fffffffffffffn)), i64.const(0x3ff0000000000000n))));
  f.if(f64.gt(f.get(m), f64.const(Math.SQRT2)), () => {
    f.set(m, f64.mul(f.get(m), f64.const(0.5)));
    f.set(e, i32.add(f.get(e), i32.const(1)));
  });
  // with f = m − 1 (exact), s = f/(2 + f), hfsq = f²/2: log m = 2s + s·R, R = Σ_{1 ≤ i ≤ 11} 2s^{2i}/(2i + 1),
  // and 2s = f − hfsq + s·hfsq, so log m = f − (hfsq − s·(hfsq + R)) (fdlibm's arrangement: f is exact, the
  // rounding errors land in the small correction)
  const fm = f.local('f64', 'f'), hfsq = f.local('f64', 'hfsq');
  f.set(fm, f64.sub(f.get(m), f64.const(1)));
  f.set(s, f64.div(f.get(fm), f64.add(f64.const(2), f.get(fm))));
  f.set(s2, f64.mul(f.get(s), f.get(s)));
  f.set(hfsq, f64.mul(f64.mul(f64.const(0.5), f.get(fm)), f.get(fm)));
  let p: Expr = f64.const(2 / 23);
  for (let i = 10; i >= 1; i--) p = f64.add(f64.mul(p, f.get(s2)), f64.const(2 / (2 * i + 1)));
  const R = f64.mul(f.get(s2), p);
  const ef = f64.convertI32S(f.get(e));
  // e·ln2_hi − ((hfsq − (s·(hfsq + R) + e·ln2_lo)) − f)
  f.set(y, f64.sub(f64.mul(ef, f64.const(LN2_HI)),
    f64.sub(f64.sub(f.get(hfsq), f64.add(f64.mul(f.get(s), f64.add(f.get(hfsq), R)), f64.mul(ef, f64.const(LN2_LO)))), f.get(fm))));
  f.set(y, select(f64.const(-Infinity), f.get(y), f64.eq(f.get(x), f64.const(0))));
  f.set(y, select(f64.const(NaN), f.get(y), f64.lt(f.get(x), f64.const(0))));
  // +∞ and NaN give themselves
  f.set(y, select(f.get(x), f.get(y), i32.or(f64.eq(f.get(x), f64.const(Infinity)), f64.ne(f.get(x), f.get(x)))));
}

function factorial(n: number): number {
  let p = 1;
  for (let i = 2; i <= n; i++) p *= i;
  return p;
}

/** e^u − 1 for |u| ≤ 1.1 (float64): Taylor to u^21 (truncation < 1e-18 relative), no cancellation. */
const expm1Small = (f: Fn, u: Local): Expr => {
  let p: Expr = f64.const(1 / factorial(21));
  for (let i = 20; i >= 1; i--) p = f64.add(f64.mul(p, f.get(u)), f64.const(1 / factorial(i)));
  return f64.mul(f.get(u), p);
};

/** The float64 bodies of the float32 math kernels: y = op(x), x and y f64 locals. */
export const MATH_OPS: Record<string, (f: Fn, x: Local, y: Local) => void> = {
  exp: emitExp,
  log: emitLog,
  // |x| < 0.55: em/(em + 2) with em = e^{2x} − 1 from its series (keeps tanh x ≈ x exact for tiny x
  // and −0); else sign(x)·(1 − 2/(e^{2|x|} + 1)) (no cancellation: the result is ≥ 0.5); NaN → NaN
  tanh: (f, x, y) => {
    const u = f.local('f64', 'u'), em = f.local('f64', 'em'), ax2 = f.local('f64', 'ax2'), e = f.local('f64', 'e'), big = f.local('f64', 'big');
    f.set(u, f64.mul(f64.const(2), f.get(x)));
    f.set(em, expm1Small(f, u));
    f.set(ax2, f64.abs(f.get(u)));
    emitExp(f, ax2, e);
    f.set(big, f64.sub(f64.const(1), f64.div(f64.const(2), f64.add(f.get(e), f64.const(1)))));
    f.set(big, select(f64.neg(f.get(big)), f.get(big), f64.lt(f.get(x), f64.const(0))));
    f.set(y, select(f64.div(f.get(em), f64.add(f.get(em), f64.const(2))), f.get(big), f64.lt(f64.abs(f.get(x)), f64.const(0.55))));
  },
  // the reference's split at 0: 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) below (NaN takes the second)
  sigmoid: (f, x, y) => {
    const ax = f.local('f64', 'ax'), e = f.local('f64', 'e');
    f.set(ax, f64.neg(f64.abs(f.get(x))));
    emitExp(f, ax, e);
    f.set(y, select(f64.div(f64.const(1), f64.add(f64.const(1), f.get(e))), f64.div(f.get(e), f64.add(f64.const(1), f.get(e))), f64.ge(f.get(x), f64.const(0))));
  },
};

/**
 * math_<op>_float32: out[r, j] = fround(op(x[r, j])) with op computed in float64 (above), over
 * rows [rowLo, rowHi) of n elements of a strided float32 operand; the output is contiguous.
 */
export function emitMath(m: ModuleBuilder, op: string): void {
  const body = MATH_OPS[op];
  m.fn(`math_${op}_float32`, `out[r, j] = ${op}(x[r, j]) over rows of a strided float32 operand, float64 ${op} rounded once`,
    ['out', 'xBase', 'xStarts', 'rowLo', 'rowHi', 'n', 'sx'],
    (f, out, xBase, xStarts, rowLo, rowHi, n, sx) => {
      const r = f.local('i32', 'r'), j = f.local('i32', 'j'), p = f.local('i32', 'p'), po = f.local('i32', 'po');
      const x = f.local('f64', 'x'), y = f.local('f64', 'y');
      const step = f.let('step', i32.shl(f.get(sx), i32.const(2)));
      f.for(r, f.get(rowLo), () => f.get(rowHi), 1, () => {
        f.set(p, i32.add(f.get(xBase), i32.shl(i32.load(i32.add(f.get(xStarts), i32.shl(f.get(r), i32.const(2)))), i32.const(2))));
        f.set(po, i32.add(f.get(out), i32.shl(i32.mul(f.get(r), f.get(n)), i32.const(2))));
        f.for(j, i32.const(0), () => f.get(n), 1, () => {
          f.set(x, f64.promote(f32.load(f.get(p))));
          body(f, x, y);
          f.store('f32', f.get(po), f32.demote(f.get(y)));
          f.set(p, i32.add(f.get(p), f.get(step)));
          f.set(po, i32.add(f.get(po), i32.const(4)));
        });
      });
    },
  );
}
