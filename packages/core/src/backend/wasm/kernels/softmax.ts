// Emitter of the softmax and logSoftmax kernels over one dim: per row, the max (NaN wins), then in
// float64 as the JS reference does — softmax: e_k = exp(x_k − max), their sum in order, e_k / sum
// rounded once; logSoftmax: the same sum, lse = log(sum), (x_k − max) − lse rounded once. exp and
// log are kernels/math.ts's (within 2 ulp of Math.exp / Math.log in float64), so float32 outputs
// equal the reference's except when the float64 value sits within ~1e-16 of a float32 rounding
// boundary. A masked −∞ gives exactly 0 (logSoftmax: −∞) and an all-masked row NaN, as in the
// reference.
import { type Expr, type Local, type ModuleBuilder, f32, f64, i32, select } from '../asm.ts';
import { emitExp, emitLog } from './math.ts';

/**
 * softmax_<dtype> / logSoftmax_<dtype>: for rows [lo, hi) of n elements, input row r at xBase +
 * xStarts[r] stepping by sx, output row r at out + outStarts[r] stepping by so:
 * out = e^(x − max) / Σ e^(x − max), or (x − max) − log Σ e^(x − max).
 * `scratch` holds n float64 (the e_k, or the x_k − max, of one row).
 */
export function emitSoftmax(m: ModuleBuilder, dtype: 'float32' | 'float64', log = false): void {
  const shift = dtype === 'float32' ? 2 : 3;
  const name = log ? 'logSoftmax' : 'softmax';
  m.fn(`${name}_${dtype}`, `out[r, :] = ${name}(x[r, :]) over strided ${dtype} rows, float64 max/exp/sum${log ? '/log' : ''}, one rounding`,
    ['out', 'outStarts', 'xBase', 'xStarts', 'lo', 'hi', 'n', 'so', 'sx', 'scratch'],
    (f, out, outStarts, xBase, xStarts, lo, hi, n, so, sx, scratch) => {
      const r = f.local('i32', 'r'), k = f.local('i32', 'k'), p = f.local('i32', 'p'), q = f.local('i32', 'q');
      const v = f.local('f64', 'v'), max = f.local('f64', 'max'), sum = f.local('f64', 'sum'), e = f.local('f64', 'e'), x = f.local('f64', 'x');
      const lse = f.local('f64', 'lse');
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
        // e_k = exp(x_k − max) (logSoftmax: x_k − max) into scratch, and the sum of the e_k in order
        f.set(sum, f64.const(0));
        f.set(p, rowStart(xBase, xStarts));
        f.set(q, f.get(scratch));
        f.for(k, i32.const(0), () => f.get(n), 1, () => {
          f.set(x, f64.sub(load(), f.get(max)));
          emitExp(f, x, e);
          f.store('f64', f.get(q), log ? f.get(x) : f.get(e));
          f.set(sum, f64.add(f.get(sum), f.get(e)));
          f.set(p, i32.add(f.get(p), f.get(stepIn)));
          f.set(q, i32.add(f.get(q), i32.const(8)));
        });
        // out_k = e_k / sum (logSoftmax: (x_k − max) − log sum), rounded once
        if (log) emitLog(f, sum, lse);
        f.set(p, rowStart(out, outStarts));
        f.set(q, f.get(scratch));
        f.for(k, i32.const(0), () => f.get(n), 1, () => {
          const y = log ? f64.sub(f64.load(f.get(q)), f.get(lse)) : f64.div(f64.load(f.get(q)), f.get(sum));
          if (dtype === 'float32') f.store('f32', f.get(p), f32.demote(y));
          else f.store('f64', f.get(p), y);
          f.set(p, i32.add(f.get(p), f.get(stepOut)));
          f.set(q, i32.add(f.get(q), i32.const(8)));
        });
      });
    },
  );
}
