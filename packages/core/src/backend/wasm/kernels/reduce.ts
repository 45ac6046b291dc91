// Emitters of the reductions: each output walks its block in the order the JS reference does
// (block rows in order, then along each row). sum keeps a float64 running sum rounded once when
// stored; max / min keep the running extreme (NaN wins: once NaN, it stays); argmax / argmin the
// running best and its position (first on ties; the first NaN wins and ends the search). So every
// result equals the reference bit for bit. Outputs are independent, so threads split them.
import { type Expr, type ModuleBuilder, f32, f64, i32, select } from '../asm.ts';

export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'min', 'argmax', 'argmin'];

/**
 * <op>_<dtype>: out[j] = op over block j of x: x[outerStarts[j] + blockRows[r] + k·sk] for every
 * r < nRows, k < n, in that order; j in [lo, hi). argmax / argmin write int32 positions.
 */
export function emitReduce(m: ModuleBuilder, op: ReduceOp, dtype: 'float32' | 'float64'): void {
  const shift = dtype === 'float32' ? 2 : 3;
  const what = {
    sum: 'Σ, float64 accumulator', max: 'max (NaN wins)', min: 'min (NaN wins)',
    argmax: 'argmax (int32, first on ties, first NaN wins)', argmin: 'argmin (int32, first on ties, first NaN wins)',
  }[op];
  m.fn(`${op}_${dtype}`, `out[j] = ${what} over block j of a strided ${dtype} tensor, in the reference's order`,
    ['out', 'xBase', 'outerStarts', 'lo', 'hi', 'blockRows', 'nRows', 'n', 'sk'],
    (f, out, xBase, outerStarts, lo, hi, blockRows, nRows, n, sk) => {
      const j = f.local('i32', 'j'), r = f.local('i32', 'r'), k = f.local('i32', 'k'), pos = f.local('i32', 'pos'), at = f.local('i32', 'at');
      const base = f.local('i32', 'base'), p = f.local('i32', 'p'), acc = f.local('f64', 'acc'), v = f.local('f64', 'v');
      const step = f.let('step', i32.shl(f.get(sk), i32.const(shift)));
      const load = (): Expr => (dtype === 'float32' ? f64.promote(f32.load(f.get(p))) : f64.load(f.get(p)));
      const init = op === 'sum' ? 0 : op === 'max' || op === 'argmax' ? -Infinity : Infinity;
      // v beats acc: NaN, or strictly better (an extreme that is already NaN is never replaced for arg*)
      const beats = (): Expr => {
        const better = op === 'max' || op === 'argmax' ? f64.gt(f.get(v), f.get(acc)) : f64.lt(f.get(v), f.get(acc));
        const wins = i32.or(better, f64.ne(f.get(v), f.get(v)));
        return op === 'argmax' || op === 'argmin' ? i32.and(wins, f64.eq(f.get(acc), f.get(acc))) : wins;
      };
      f.for(j, f.get(lo), () => f.get(hi), 1, () => {
        f.set(acc, f64.const(init));
        f.set(pos, i32.const(0));
        f.set(at, i32.const(0));
        f.set(base, i32.add(f.get(xBase), i32.shl(i32.load(i32.add(f.get(outerStarts), i32.shl(f.get(j), i32.const(2)))), i32.const(shift))));
        f.for(r, i32.const(0), () => f.get(nRows), 1, () => {
          f.set(p, i32.add(f.get(base), i32.shl(i32.load(i32.add(f.get(blockRows), i32.shl(f.get(r), i32.const(2)))), i32.const(shift))));
          f.for(k, i32.const(0), () => f.get(n), 1, () => {
            if (op === 'sum') {
              f.set(acc, f64.add(f.get(acc), load()));
            } else {
              f.set(v, load());
              if (op === 'max' || op === 'min') {
                f.set(acc, select(f.get(v), f.get(acc), beats()));
              } else {
                f.if(beats(), () => {
                  f.set(acc, f.get(v));
                  f.set(at, f.get(pos));
                });
                f.set(pos, i32.add(f.get(pos), i32.const(1)));
              }
            }
            f.set(p, i32.add(f.get(p), f.get(step)));
          });
        });
        if (op === 'argmax' || op === 'argmin') {
          f.store('i32', i32.add(f.get(out), i32.shl(f.get(j), i32.const(2))), f.get(at));
        } else {
          const dst = i32.add(f.get(out), i32.shl(f.get(j), i32.const(shift)));
          if (dtype === 'float32') f.store('f32', dst, f32.demote(f.get(acc)));
          else f.store('f64', dst, f.get(acc));
        }
      });
    },
  );
}
