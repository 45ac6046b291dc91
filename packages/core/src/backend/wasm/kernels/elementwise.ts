// Emitters of the elementwise kernels: unary and binary ops, and the strided copy behind
// `contiguous`, for float32 (f32x4) and float64 (f64x2). Operands arrive as rows (see the CPU
// backend's rowsOf): row r of operand k starts at element starts_k[r] and steps by s_k; the output
// is contiguous. A row whose operands all step by 1 (or 0: a broadcast value) runs in SIMD, anything
// else element by element. Every op here is exact IEEE arithmetic, so results equal the JS reference
// bit for bit.
import { type Expr, type Fn, type Lanes, type Local, type ModuleBuilder, f32, f32x4, f64, f64x2, i32, select, v128 } from '../asm.ts';
import type { BinaryOp, UnaryOp } from '../../../ops/elementwise.ts';

interface BinaryEmit { vec: (L: Lanes, a: Expr, b: Expr) => Expr; sca: (L: Lanes, a: Expr, b: Expr) => Expr }
interface UnaryEmit { vec: (L: Lanes, x: Expr) => Expr; sca: (L: Lanes, x: Expr) => Expr }

/** Each binary op on vectors and on scalars (a, b are cheap local reads, used more than once). */
export const BINARY_OPS: Record<string, BinaryEmit> = {
  add: { vec: (L, a, b) => L.add(a, b), sca: (L, a, b) => L.scalar.add(a, b) },
  sub: { vec: (L, a, b) => L.sub(a, b), sca: (L, a, b) => L.scalar.sub(a, b) },
  mul: { vec: (L, a, b) => L.mul(a, b), sca: (L, a, b) => L.scalar.mul(a, b) },
  div: { vec: (L, a, b) => L.div(a, b), sca: (L, a, b) => L.scalar.div(a, b) },
  // NaN if either is NaN, else a > b ? a : b (ties give b, as the reference does; wasm's max would
  // order −0 < +0 instead)
  maximum: {
    vec: (L, a, b) => v128.bitselect(L.add(a, b), v128.bitselect(a, b, L.gt(a, b)), v128.or(L.ne(a, a), L.ne(b, b))),
    sca: (L, a, b) => select(L.scalar.add(a, b), select(a, b, L.scalar.gt(a, b)), i32.or(L.scalar.ne(a, a), L.scalar.ne(b, b))),
  },
  minimum: {
    vec: (L, a, b) => v128.bitselect(L.add(a, b), v128.bitselect(a, b, L.gt(b, a)), v128.or(L.ne(a, a), L.ne(b, b))),
    sca: (L, a, b) => select(L.scalar.add(a, b), select(a, b, L.scalar.gt(b, a)), i32.or(L.scalar.ne(a, a), L.scalar.ne(b, b))),
  },
} satisfies Partial<Record<BinaryOp, BinaryEmit>>; // a subset of the op table's names (ops/elementwise.ts)

/** Each unary op on vectors and on scalars. `copy` is the identity (bits unchanged). */
export const UNARY_OPS: Record<string, UnaryEmit> = {
  copy: { vec: (_L, x) => x, sca: (_L, x) => x },
  neg: { vec: (L, x) => L.neg(x), sca: (L, x) => L.scalar.neg(x) },
  abs: { vec: (L, x) => L.abs(x), sca: (L, x) => L.scalar.abs(x) },
  sqrt: { vec: (L, x) => L.sqrt(x), sca: (L, x) => L.scalar.sqrt(x) },
  // wasm's max gives NaN for NaN and +0 for −0, as the reference's x > 0 ? x : 0 does
  relu: { vec: (L, x) => L.max(x, L.splat(L.scalar.const(0))), sca: (L, x) => L.scalar.max(x, L.scalar.const(0)) },
} satisfies Partial<Record<UnaryOp | 'copy', UnaryEmit>>; // a subset of the op table's names, and the copy

export const LANES: Record<'float32' | 'float64', Lanes> = { float32: f32x4, float64: f64x2 };

/** ptr + (element index) · bytes */
const at = (f: Fn, L: Lanes, base: Local, elements: Expr): Expr => i32.add(f.get(base), i32.shl(elements, i32.const(L.shift)));

/**
 * One row loop shared by the unary and binary kernels: operands `ins` (base pointer, row-start
 * table, step), output contiguous; `op` combines the loaded values. Rows [rowLo, rowHi).
 */
function emitRows(
  f: Fn, L: Lanes, out: Local, ins: { base: Local; starts: Local; step: Local }[], rowLo: Local, rowHi: Local, n: Local,
  vec: (xs: Expr[]) => Expr, sca: (xs: Expr[]) => Expr,
): void {
  const r = f.local('i32', 'r'), j = f.local('i32', 'j'), nv = f.local('i32', 'nv'), po = f.local('i32', 'po');
  const ptr = ins.map((_, k) => f.local('i32', `p${k}`));
  const vx = ins.map((_, k) => f.local('v128', `v${k}`));
  const sx = ins.map((_, k) => f.local(L.scalarType, `s${k}`));
  f.set(nv, i32.and(f.get(n), i32.const(-L.lanes))); // n rounded down to whole vectors
  f.for(r, f.get(rowLo), () => f.get(rowHi), 1, () => {
    ins.forEach((x, k) => f.set(ptr[k], at(f, L, x.base, i32.load(i32.add(f.get(x.starts), i32.shl(f.get(r), i32.const(2)))))));
    f.set(po, at(f, L, out, i32.mul(f.get(r), f.get(n))));
    f.set(j, i32.const(0));
    // SIMD when every operand steps by 1 or 0 along the row; a step-0 operand is splat once
    const unitOrZero = ins.map((x) => i32.ltU(f.get(x.step), i32.const(2))).reduce((a, b) => i32.and(a, b));
    f.if(unitOrZero, () => {
      ins.forEach((x, k) => f.if(i32.eqz(f.get(x.step)), () => f.set(vx[k], L.loadSplat(f.get(ptr[k])))));
      f.for(j, i32.const(0), () => f.get(nv), L.lanes, () => {
        ins.forEach((x, k) =>
          f.if(i32.ne(f.get(x.step), i32.const(0)), () => {
            f.set(vx[k], v128.load(f.get(ptr[k])));
            f.set(ptr[k], i32.add(f.get(ptr[k]), i32.const(16)));
          }),
        );
        f.store('v128', f.get(po), vec(vx.map((v) => f.get(v))));
        f.set(po, i32.add(f.get(po), i32.const(16)));
      });
    });
    // the rest of the row (all of it when strided), one element at a time
    const step = ins.map((x) => f.let('st', i32.shl(f.get(x.step), i32.const(L.shift))));
    f.for(j, f.get(j), () => f.get(n), 1, () => {
      ins.forEach((_, k) => {
        f.set(sx[k], L.scalar.load(f.get(ptr[k])));
        f.set(ptr[k], i32.add(f.get(ptr[k]), f.get(step[k])));
      });
      f.store(L.scalarType, f.get(po), sca(sx.map((s) => f.get(s))));
      f.set(po, i32.add(f.get(po), i32.const(L.bytes)));
    });
  });
}

/** bin_<op>_<dtype>: out[r, j] = a[r, j] ∘ b[r, j] over rows [rowLo, rowHi) of n elements. */
export function emitBinary(m: ModuleBuilder, op: string, dtype: 'float32' | 'float64'): void {
  const L = LANES[dtype];
  const { vec, sca } = BINARY_OPS[op];
  m.fn(`bin_${op}_${dtype}`, `out[r, j] = ${op}(a[r, j], b[r, j]), rows of strided ${dtype} operands, ${L === f32x4 ? 'f32x4' : 'f64x2'}`,
    ['out', 'aBase', 'bBase', 'aStarts', 'bStarts', 'rowLo', 'rowHi', 'n', 'sa', 'sb'],
    (f, out, aBase, bBase, aStarts, bStarts, rowLo, rowHi, n, sa, sb) =>
      emitRows(f, L, out, [{ base: aBase, starts: aStarts, step: sa }, { base: bBase, starts: bStarts, step: sb }], rowLo, rowHi, n,
        ([a, b]) => vec(L, a, b), ([a, b]) => sca(L, a, b)),
  );
}

/** un_<op>_<dtype>: out[r, j] = op(x[r, j]) over rows [rowLo, rowHi) of n elements. */
export function emitUnary(m: ModuleBuilder, op: string, dtype: 'float32' | 'float64'): void {
  const L = LANES[dtype];
  const { vec, sca } = UNARY_OPS[op];
  m.fn(`un_${op}_${dtype}`, `out[r, j] = ${op}(x[r, j]), rows of a strided ${dtype} operand`,
    ['out', 'xBase', 'xStarts', 'rowLo', 'rowHi', 'n', 'sx'],
    (f, out, xBase, xStarts, rowLo, rowHi, n, sx) =>
      emitRows(f, L, out, [{ base: xBase, starts: xStarts, step: sx }], rowLo, rowHi, n, ([x]) => vec(L, x), ([x]) => sca(L, x)),
  );
}

/** where_<dtype>: out[r, j] = cond[r, j] ≠ 0 ? a[r, j] : b[r, j]; cond is bool (one byte each). */
export function emitWhere(m: ModuleBuilder, dtype: 'float32' | 'float64'): void {
  const L = LANES[dtype];
  m.fn(`where_${dtype}`, `out[r, j] = cond[r, j] ? a[r, j] : b[r, j], bool condition, strided ${dtype} operands`,
    ['out', 'cBase', 'aBase', 'bBase', 'cStarts', 'aStarts', 'bStarts', 'rowLo', 'rowHi', 'n', 'sc', 'sa', 'sb'],
    (f, out, cBase, aBase, bBase, cStarts, aStarts, bStarts, rowLo, rowHi, n, sc, sa, sb) => {
      const r = f.local('i32', 'r'), j = f.local('i32', 'j'), po = f.local('i32', 'po');
      const pc = f.local('i32', 'pc'), pa = f.local('i32', 'pa'), pb = f.local('i32', 'pb');
      const stepA = f.let('stepA', i32.shl(f.get(sa), i32.const(L.shift)));
      const stepB = f.let('stepB', i32.shl(f.get(sb), i32.const(L.shift)));
      const start = (table: Local): Expr => i32.load(i32.add(f.get(table), i32.shl(f.get(r), i32.const(2))));
      f.for(r, f.get(rowLo), () => f.get(rowHi), 1, () => {
        f.set(pc, i32.add(f.get(cBase), start(cStarts)));
        f.set(pa, at(f, L, aBase, start(aStarts)));
        f.set(pb, at(f, L, bBase, start(bStarts)));
        f.set(po, at(f, L, out, i32.mul(f.get(r), f.get(n))));
        f.for(j, i32.const(0), () => f.get(n), 1, () => {
          f.store(L.scalarType, f.get(po), select(L.scalar.load(f.get(pa)), L.scalar.load(f.get(pb)), i32.load8u(f.get(pc))));
          f.set(pc, i32.add(f.get(pc), f.get(sc)));
          f.set(pa, i32.add(f.get(pa), f.get(stepA)));
          f.set(pb, i32.add(f.get(pb), f.get(stepB)));
          f.set(po, i32.add(f.get(po), i32.const(L.bytes)));
        });
      });
    },
  );
}

/** copy_u8: out[r, j] = x[r, j] for a strided operand of 1-byte elements (bool), bits unchanged. */
export function emitCopyBytes(m: ModuleBuilder): void {
  m.fn('copy_u8', 'out[r, j] = x[r, j], rows of a strided 1-byte (bool) operand copied into a contiguous output',
    ['out', 'xBase', 'xStarts', 'rowLo', 'rowHi', 'n', 'sx'],
    (f, out, xBase, xStarts, rowLo, rowHi, n, sx) => {
      const r = f.local('i32', 'r'), j = f.local('i32', 'j'), p = f.local('i32', 'p'), po = f.local('i32', 'po');
      f.for(r, f.get(rowLo), () => f.get(rowHi), 1, () => {
        f.set(p, i32.add(f.get(xBase), i32.load(i32.add(f.get(xStarts), i32.shl(f.get(r), i32.const(2))))));
        f.set(po, i32.add(f.get(out), i32.mul(f.get(r), f.get(n))));
        f.for(j, i32.const(0), () => f.get(n), 1, () => {
          f.store8(f.get(po), i32.load8u(f.get(p)));
          f.set(p, i32.add(f.get(p), f.get(sx)));
          f.set(po, i32.add(f.get(po), i32.const(1)));
        });
      });
    },
  );
}

/** The comparison ops (IEEE: NaN compares false, and unequal), per operand dtype. */
export const COMPARE_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
const CMP = {
  float32: { load: f32.load, bytes: 4, type: 'f32', eq: f32.eq, ne: f32.ne, lt: f32.lt, le: f32.le, gt: f32.gt, ge: f32.ge },
  float64: { load: f64.load, bytes: 8, type: 'f64', eq: f64.eq, ne: f64.ne, lt: f64.lt, le: f64.le, gt: f64.gt, ge: f64.ge },
  int32: { load: i32.load, bytes: 4, type: 'i32', eq: i32.eq, ne: i32.ne, lt: i32.ltS, le: i32.leS, gt: i32.gtS, ge: i32.geS },
} as const;

/** cmp_<op>_<dtype>: out[r, j] = a[r, j] ∘ b[r, j] ? 1 : 0 (bool, one byte each), rows of strided operands. */
export function emitCompare(m: ModuleBuilder, op: (typeof COMPARE_OPS)[number], dtype: 'float32' | 'float64' | 'int32'): void {
  const C = CMP[dtype];
  const shift = C.bytes === 4 ? 2 : 3;
  m.fn(`cmp_${op}_${dtype}`, `out[r, j] = ${op}(a[r, j], b[r, j]) as a bool byte, rows of strided ${dtype} operands`,
    ['out', 'aBase', 'bBase', 'aStarts', 'bStarts', 'rowLo', 'rowHi', 'n', 'sa', 'sb'],
    (f, out, aBase, bBase, aStarts, bStarts, rowLo, rowHi, n, sa, sb) => {
      const r = f.local('i32', 'r'), j = f.local('i32', 'j'), pa = f.local('i32', 'pa'), pb = f.local('i32', 'pb'), po = f.local('i32', 'po');
      const stepA = f.let('stepA', i32.shl(f.get(sa), i32.const(shift)));
      const stepB = f.let('stepB', i32.shl(f.get(sb), i32.const(shift)));
      const start = (base: Local, table: Local): Expr =>
        i32.add(f.get(base), i32.shl(i32.load(i32.add(f.get(table), i32.shl(f.get(r), i32.const(2)))), i32.const(shift)));
      f.for(r, f.get(rowLo), () => f.get(rowHi), 1, () => {
        f.set(pa, start(aBase, aStarts));
        f.set(pb, start(bBase, bStarts));
        f.set(po, i32.add(f.get(out), i32.mul(f.get(r), f.get(n))));
        f.for(j, i32.const(0), () => f.get(n), 1, () => {
          f.store8(f.get(po), C[op](C.load(f.get(pa)), C.load(f.get(pb))));
          f.set(pa, i32.add(f.get(pa), f.get(stepA)));
          f.set(pb, i32.add(f.get(pb), f.get(stepB)));
          f.set(po, i32.add(f.get(po), i32.const(1)));
        });
      });
    },
  );
}
