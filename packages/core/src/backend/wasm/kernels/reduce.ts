// Emitter of the sum reduction: each output is a float64 running sum over its block, in the order
// the JS reference adds (block rows in order, then along each row), rounded once when stored, so
// the result equals the reference bit for bit. Outputs are independent, so threads split them.
import { type ModuleBuilder, f32, f64, i32 } from '../asm.ts';

/**
 * sum_<dtype>: out[j] = Σ_r Σ_k x[outerStarts[j] + blockRows[r] + k·sk], j in [lo, hi).
 */
export function emitSum(m: ModuleBuilder, dtype: 'float32' | 'float64'): void {
  const shift = dtype === 'float32' ? 2 : 3;
  m.fn(`sum_${dtype}`, `out[j] = Σ over block j of a strided ${dtype} tensor, float64 accumulator in the reference's order`,
    ['out', 'xBase', 'outerStarts', 'lo', 'hi', 'blockRows', 'nRows', 'n', 'sk'],
    (f, out, xBase, outerStarts, lo, hi, blockRows, nRows, n, sk) => {
      const j = f.local('i32', 'j'), r = f.local('i32', 'r'), k = f.local('i32', 'k');
      const base = f.local('i32', 'base'), p = f.local('i32', 'p'), acc = f.local('f64', 'acc');
      const step = f.let('step', i32.shl(f.get(sk), i32.const(shift)));
      const load = () => (dtype === 'float32' ? f64.promote(f32.load(f.get(p))) : f64.load(f.get(p)));
      f.for(j, f.get(lo), () => f.get(hi), 1, () => {
        f.set(acc, f64.const(0));
        f.set(base, i32.add(f.get(xBase), i32.shl(i32.load(i32.add(f.get(outerStarts), i32.shl(f.get(j), i32.const(2)))), i32.const(shift))));
        f.for(r, i32.const(0), () => f.get(nRows), 1, () => {
          f.set(p, i32.add(f.get(base), i32.shl(i32.load(i32.add(f.get(blockRows), i32.shl(f.get(r), i32.const(2)))), i32.const(shift))));
          f.for(k, i32.const(0), () => f.get(n), 1, () => {
            f.set(acc, f64.add(f.get(acc), load()));
            f.set(p, i32.add(f.get(p), f.get(step)));
          });
        });
        const at = i32.add(f.get(out), i32.shl(f.get(j), i32.const(shift)));
        if (dtype === 'float32') f.store('f32', at, f32.demote(f.get(acc)));
        else f.store('f64', at, f.get(acc));
      });
    },
  );
}
