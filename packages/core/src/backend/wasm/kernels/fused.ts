// Emitter of fused elementwise kernels declared by other packages (the models' gramDet and rope):
// out[r, j] = expr(x₀[r, j], x₁[r, j], …), every operand (the output too) a strided view walked by
// rows. Values are loaded as stored, computed in float64 and rounded once when stored, as the JS
// reference does, so a float32 result equals the reference's bit for bit when `expr` is the same
// arithmetic in the same order.
import { type Expr, ModuleBuilder, f32, f64, i32 } from '../asm.ts';

/**
 * The float64 arithmetic a fused expression is written with.
 * @example
 * const double: FusedExpr = ([x], o) => o.mul(x, o.c(2)); // 2x
 */
export interface FusedOps {
  add(a: Expr, b: Expr): Expr;
  sub(a: Expr, b: Expr): Expr;
  mul(a: Expr, b: Expr): Expr;
  div(a: Expr, b: Expr): Expr;
  neg(a: Expr): Expr;
  /** A float64 constant. */
  c(v: number): Expr;
}
const OPS: FusedOps = { add: f64.add, sub: f64.sub, mul: f64.mul, div: f64.div, neg: f64.neg, c: f64.const };

/**
 * A fused elementwise kernel's formula: operand expressions in, one float64 expression out, written with FusedOps.
 * @example
 * const axpy: FusedExpr = ([x, y], o) => o.add(o.mul(o.c(2), x), y); // 2x + y
 */
export type FusedExpr = (x: Expr[], ops: FusedOps) => Expr;

/**
 * fused_<name>: out[r, j] = expr(x[r, j]) for rows [rowLo, rowHi) of n elements; operand k (k = 0
 * is the output) has its row starts at starts_k and steps by s_k along a row.
 * Parameters: out, outStarts, x₀…, x₀Starts…, rowLo, rowHi, n, sOut, s₀….
 */
export function emitFused(m: ModuleBuilder, name: string, comment: string, arity: number, dtype: 'float32' | 'float64', expr: FusedExpr): void {
  const shift = dtype === 'float32' ? 2 : 3;
  const ins = Array.from({ length: arity }, (_, k) => k);
  const params = ['out', 'outStarts', ...ins.map((k) => `x${k}`), ...ins.map((k) => `x${k}Starts`), 'rowLo', 'rowHi', 'n', 'sOut', ...ins.map((k) => `s${k}`)];
  m.fn(`fused_${name}`, comment, params, (f, ...p) => {
    const [out, outStarts] = p;
    const bases = p.slice(2, 2 + arity), starts = p.slice(2 + arity, 2 + 2 * arity);
    const [rowLo, rowHi, n, sOut] = p.slice(2 + 2 * arity, 6 + 2 * arity);
    const steps = p.slice(6 + 2 * arity);
    const r = f.local('i32', 'r'), j = f.local('i32', 'j'), po = f.local('i32', 'po');
    const ptr = ins.map((k) => f.local('i32', `p${k}`));
    const val = ins.map((k) => f.local('f64', `v${k}`));
    const stepOut = f.let('stepOut', i32.shl(f.get(sOut), i32.const(shift)));
    const step = steps.map((s, k) => f.let(`step${k}`, i32.shl(f.get(s), i32.const(shift))));
    const rowStart = (base: Expr, table: Expr): Expr =>
      i32.add(base, i32.shl(i32.load(i32.add(table, i32.shl(f.get(r), i32.const(2)))), i32.const(shift)));
    f.for(r, f.get(rowLo), () => f.get(rowHi), 1, () => {
      f.set(po, rowStart(f.get(out), f.get(outStarts)));
      ins.forEach((k) => f.set(ptr[k], rowStart(f.get(bases[k]), f.get(starts[k]))));
      f.for(j, i32.const(0), () => f.get(n), 1, () => {
        ins.forEach((k) => {
          f.set(val[k], dtype === 'float32' ? f64.promote(f32.load(f.get(ptr[k]))) : f64.load(f.get(ptr[k])));
          f.set(ptr[k], i32.add(f.get(ptr[k]), f.get(step[k])));
        });
        const y = expr(val.map((v) => f.get(v)), OPS);
        if (dtype === 'float32') f.store('f32', f.get(po), f32.demote(y));
        else f.store('f64', f.get(po), y);
        f.set(po, i32.add(f.get(po), f.get(stepOut)));
      });
    });
  });
}
