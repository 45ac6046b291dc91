// Emitter of the float32 matmul kernel: C = A·B for a range of batch matrices and rows, operands
// read through their strides (a transposed or sliced operand is never copied whole). GotoBLAS order:
// pack B into NR-column panels, then for each MR-row panel of A, pack it and sweep the register tile
// across B's panels. Each output element is one float32 sum over k in order (f32x4 mul, then add:
// no FMA), so the result does not depend on how rows or batches are split between threads.
import { type Fn, type Local, type ModuleBuilder, f32, f32x4, i32, select, v128 } from '../asm.ts';

/** Register tile: MR rows × NR columns, MR·NR/4 f32x4 accumulators (12 + 2 + 1 live v128 of 16). */
export const MR = 6;
export const NR = 8;
const NV = NR / 4;

/** Scratch bytes one thread needs: packed B (K × N rounded up to NR), packed A (K × MR), one edge tile. */
export const matmulScratchBytes = (K: number, N: number): number => 4 * (K * Math.ceil(N / NR) * NR + K * MR + MR * NR) + 64;

/**
 * Bp[j0/NR][k][c] = B[k, j0 + c], zero past N: NR-column panels, k-major, so the tile reads NR
 * consecutive floats per k. Full panels of a row-major B copy two v128 per k.
 */
function emitPackB(f: Fn, B: Local, brs: Local, bcs: Local, K: Local, N: Local, Bp: Local): void {
  const j0 = f.local('i32', 'j0'), k = f.local('i32', 'k'), cols = f.local('i32', 'cols');
  const src = f.local('i32', 'src'), dst = f.local('i32', 'dst');
  f.for(j0, i32.const(0), () => f.get(N), NR, () => {
    f.set(cols, i32.sub(f.get(N), f.get(j0)));
    f.for(k, i32.const(0), () => f.get(K), 1, () => {
      // dst = Bp + (j0·K + k·NR)·4,  src = B + (k·brs + j0·bcs)·4
      f.set(dst, i32.add(f.get(Bp), i32.shl(i32.add(i32.mul(f.get(j0), f.get(K)), i32.mul(f.get(k), i32.const(NR))), i32.const(2))));
      f.set(src, i32.add(f.get(B), i32.shl(i32.add(i32.mul(f.get(k), f.get(brs)), i32.mul(f.get(j0), f.get(bcs))), i32.const(2))));
      f.if(
        i32.and(i32.geS(f.get(cols), i32.const(NR)), i32.eq(f.get(bcs), i32.const(1))),
        () => {
          for (let v = 0; v < NV; v++) f.store('v128', f.get(dst), v128.load(f.get(src), 16 * v), 16 * v);
        },
        () => {
          for (let c = 0; c < NR; c++) {
            f.if(
              i32.gtS(f.get(cols), i32.const(c)),
              () => f.store('f32', f.get(dst), f32.load(i32.add(f.get(src), i32.shl(i32.mul(f.get(bcs), i32.const(c)), i32.const(2)))), 4 * c),
              () => f.store('f32', f.get(dst), f32.const(0), 4 * c),
            );
          }
        },
      );
    });
  });
}

/** Ap[k][r] = A[r, k] for r < rows (A at the panel's first row), zero below: one MR-row panel. */
function emitPackA(f: Fn, A: Local, ars: Local, acs: Local, rows: Local, K: Local, Ap: Local): void {
  const k = f.local('i32', 'ka'), src = f.local('i32', 'asrc'), dst = f.local('i32', 'adst');
  f.for(k, i32.const(0), () => f.get(K), 1, () => {
    f.set(dst, i32.add(f.get(Ap), i32.mul(f.get(k), i32.const(4 * MR))));
    f.set(src, i32.add(f.get(A), i32.shl(i32.mul(f.get(k), f.get(acs)), i32.const(2))));
    for (let r = 0; r < MR; r++) {
      f.if(
        i32.gtS(f.get(rows), i32.const(r)),
        () => f.store('f32', f.get(dst), f32.load(i32.add(f.get(src), i32.shl(i32.mul(f.get(ars), i32.const(r)), i32.const(2)))), 4 * r),
        () => f.store('f32', f.get(dst), f32.const(0), 4 * r),
      );
    }
  });
}

/**
 * C[rows, cols] = Ap[K, MR]ᵀ · Bp[K, NR], MR×NR register tile: per k, NV v128 loads of B, MR splats
 * of A, MR·NV multiplies and adds. A partial tile goes through `edge` and only its valid part is kept.
 */
function emitTile(f: Fn, Ap: Local, Bp: Local, K: Local, C: Local, ldc: Local, rows: Local, cols: Local, edge: Local): void {
  const acc = Array.from({ length: MR }, (_, r) => Array.from({ length: NV }, (_, v) => f.local('v128', `c${r}${v}`)));
  const b = Array.from({ length: NV }, (_, v) => f.local('v128', `b${v}`));
  const a = f.local('v128', 'a');
  const pa = f.local('i32', 'pa'), pb = f.local('i32', 'pb'), end = f.local('i32', 'end');
  for (const row of acc) for (const c of row) f.set(c, v128.zero());
  f.set(end, i32.add(f.get(Ap), i32.mul(f.get(K), i32.const(4 * MR))));
  f.set(pb, f.get(Bp));
  f.for(pa, f.get(Ap), () => f.get(end), 4 * MR, () => {
    for (let v = 0; v < NV; v++) f.set(b[v], v128.load(f.get(pb), 16 * v));
    for (let r = 0; r < MR; r++) {
      f.set(a, f32x4.loadSplat(f.get(pa), 4 * r));
      for (let v = 0; v < NV; v++) f.set(acc[r][v], f32x4.add(f.get(acc[r][v]), f32x4.mul(f.get(a), f.get(b[v]))));
    }
    f.set(pb, i32.add(f.get(pb), i32.const(4 * NR)));
  });
  const full = i32.and(i32.eq(f.get(rows), i32.const(MR)), i32.eq(f.get(cols), i32.const(NR)));
  f.if(
    full,
    () => {
      for (let r = 0; r < MR; r++) {
        const row = i32.add(f.get(C), i32.mul(f.get(ldc), i32.const(r)));
        for (let v = 0; v < NV; v++) f.store('v128', row, f.get(acc[r][v]), 16 * v);
      }
    },
    () => {
      for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) f.store('v128', f.get(edge), f.get(acc[r][v]), (r * NR + 4 * v) * 4);
      const r = f.local('i32', 'er'), c = f.local('i32', 'ec');
      f.for(r, i32.const(0), () => f.get(rows), 1, () => {
        f.for(c, i32.const(0), () => f.get(cols), 1, () => {
          f.store(
            'f32',
            i32.add(i32.add(f.get(C), i32.mul(f.get(r), f.get(ldc))), i32.shl(f.get(c), i32.const(2))),
            f32.load(i32.add(f.get(edge), i32.shl(i32.add(i32.mul(f.get(r), i32.const(NR)), f.get(c)), i32.const(2)))),
          );
        });
      });
    },
  );
}

/**
 * matmul_f32: for batch p in [batchLo, batchHi) and rows [rowLo, rowHi) of each,
 *   C_p[M, N] = A_p[M, K] · B_p[K, N],  A_p at aBase + aOffs[p] (elements), strides (ars, acs); B alike;
 *   C_p contiguous at cBase + p·M·N. `scratch` holds matmulScratchBytes(K, N) bytes for this call.
 */
export function emitMatmul(m: ModuleBuilder): void {
  m.fn(
    'matmul_f32',
    `C[M,N] = A[M,K]·B[K,N] per batch matrix, strided operands, packed panels, ${MR}×${NR} f32x4 register tile`,
    ['aBase', 'bBase', 'cBase', 'aOffs', 'bOffs', 'batchLo', 'batchHi', 'rowLo', 'rowHi', 'M', 'K', 'N', 'ars', 'acs', 'brs', 'bcs', 'scratch'],
    (f, aBase, bBase, cBase, aOffs, bOffs, batchLo, batchHi, rowLo, rowHi, M, K, N, ars, acs, brs, bcs, scratch) => {
      const p = f.local('i32', 'p'), i0 = f.local('i32', 'i0'), j0 = f.local('i32', 'jt');
      const A = f.local('i32', 'A'), B = f.local('i32', 'B'), C = f.local('i32', 'C');
      const rows = f.local('i32', 'rows'), cols = f.local('i32', 'tcols');
      const Ai = f.local('i32', 'Ai'), Ci = f.local('i32', 'Ci'), Bj = f.local('i32', 'Bj'), Cij = f.local('i32', 'Cij');
      const Bp = f.let('Bp', f.get(scratch));
      // Ap after the packed B: K·⌈N/NR⌉·NR floats; the edge tile after Ap
      const Ap = f.let('Ap', i32.add(f.get(Bp), i32.shl(i32.mul(f.get(K), i32.mul(i32.divS(i32.add(f.get(N), i32.const(NR - 1)), i32.const(NR)), i32.const(NR))), i32.const(2))));
      const edge = f.let('edge', i32.add(f.get(Ap), i32.mul(f.get(K), i32.const(4 * MR))));
      const ldc = f.let('ldc', i32.shl(f.get(N), i32.const(2)));
      f.for(p, f.get(batchLo), () => f.get(batchHi), 1, () => {
        f.set(A, i32.add(f.get(aBase), i32.shl(i32.load(i32.add(f.get(aOffs), i32.shl(f.get(p), i32.const(2)))), i32.const(2))));
        f.set(B, i32.add(f.get(bBase), i32.shl(i32.load(i32.add(f.get(bOffs), i32.shl(f.get(p), i32.const(2)))), i32.const(2))));
        f.set(C, i32.add(f.get(cBase), i32.shl(i32.mul(f.get(p), i32.mul(f.get(M), f.get(N))), i32.const(2))));
        emitPackB(f, B, brs, bcs, K, N, Bp);
        f.for(i0, f.get(rowLo), () => f.get(rowHi), MR, () => {
          f.set(rows, i32.sub(f.get(rowHi), f.get(i0)));
          f.set(rows, select(i32.const(MR), f.get(rows), i32.gtS(f.get(rows), i32.const(MR)))); // min(MR, rowHi − i0)
          f.set(Ai, i32.add(f.get(A), i32.shl(i32.mul(f.get(i0), f.get(ars)), i32.const(2))));
          emitPackA(f, Ai, ars, acs, rows, K, Ap);
          f.set(Ci, i32.add(f.get(C), i32.mul(f.get(i0), f.get(ldc))));
          f.for(j0, i32.const(0), () => f.get(N), NR, () => {
            f.set(cols, i32.sub(f.get(N), f.get(j0)));
            f.set(cols, select(i32.const(NR), f.get(cols), i32.gtS(f.get(cols), i32.const(NR)))); // min(NR, N − j0)
            f.set(Bj, i32.add(f.get(Bp), i32.shl(i32.mul(f.get(j0), f.get(K)), i32.const(2))));
            f.set(Cij, i32.add(f.get(Ci), i32.shl(f.get(j0), i32.const(2))));
            emitTile(f, Ap, Bj, K, Cij, ldc, rows, cols, edge);
          });
        });
      });
    },
  );
}
