// Batched matmul on the CPU: a short reference loop (the definition) and a cache- and register-blocked
// path for float matrices large enough to pay for it. Both read operands through their strides.
//
// Operands arrive as strided views [...batch, M, K] @ [...batch, K, N] with equal batch shapes
// (broadcast batch dims have stride 0), so a transposed operand is read through its strides.
//
// NOTE: the blocked path packs small blocks of A (MC×KC) and B (KC×NC) into Float64Array scratch in
// the order its 4×4 micro-kernel reads them (BLIS/GotoBLAS "packing"). That is what makes the
// inner loop unit-stride whatever the operand's layout (a @ b, a @ bᵀ, aᵀ @ b all become the same
// loop), and it converts float32 to float64 once per element instead of once per use. It is
// bounded register/cache blocking, never a transposed copy of a whole operand.
import { allocate, type DType, type TypedArray } from '../../dtype.ts';
import { sizeOf } from '../../shape.ts';
import { Tensor } from '../../tensor.ts';
import { CpuStorage } from '../../storage.ts';
import type { Kernel } from '../backend.ts';

/** One matrix of a batch: element (i, k) sits at `data[offset + i·rowStride + k·colStride]`. */
export interface StridedMatrix {
  readonly data: TypedArray;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** Rows and columns of the register tile: 16 float64 accumulators live in locals. */
const MR = 4;
const NR = 4;
/**
 * Cache blocks: a B micro-panel (KC×NR float64, 8 KiB) stays in L1 while it meets every A
 * micro-panel of the A block (MC×KC, 128 KiB, in L2); the B block (KC×NC, ≤ 512 KiB) sits in L2.
 * At the few GFLOP/s that scalar JavaScript reaches, these sizes are not critical (measured: ±10%).
 */
const MC = 64;
const KC = 256;
const NC = 256;
/**
 * Below this many multiply-adds (M·N·K), or with a single row or column, packing costs more than it
 * saves and the reference loop runs. Measured here (float32, one matrix): the blocked path is 2.3×
 * slower at 4×4×4, 1.3× faster at 8×8×8, 2.7× faster at 16×16×16; 1.8× slower for a 1×64 · 64×64 row.
 */
const BLOCKED_MIN_MACS = 8 * 8 * 8;

/**
 * C = A·B for one matrix of the batch, the plain way: for each row i, for each k, add
 * A[i,k]·B[k,:] into a row accumulator (unit stride in B when B is row-major). Float64 accumulator
 * for float outputs; exact int32 arithmetic (wrapping mod 2³², as PyTorch's int32 matmul) for int32.
 * This is the definition the blocked path must match.
 * @example gemmReference(a, b, out, 0, 2, 3, 2) // out[0..4) = a·b for 2×3 · 3×2 matrices
 */
export function gemmReference(
  a: StridedMatrix, b: StridedMatrix, out: TypedArray, outOffset: number, M: number, K: number, N: number,
): void {
  const { data: A, rowStride: as0, colStride: as1 } = a;
  const { data: B, rowStride: bs0, colStride: bs1 } = b;
  if (out instanceof Int32Array) {
    const row = new Int32Array(N);
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = A[a.offset + i * as0 + k * as1];
        const bk = b.offset + k * bs0;
        for (let j = 0; j < N; j++) row[j] = (row[j] + Math.imul(aik, B[bk + j * bs1])) | 0;
      }
      out.set(row, outOffset + i * N);
    }
    return;
  }
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let k = 0; k < K; k++) {
      const aik = A[a.offset + i * as0 + k * as1];
      const bk = b.offset + k * bs0;
      for (let j = 0; j < N; j++) row[j] += aik * B[bk + j * bs1];
    }
    for (let j = 0; j < N; j++) out[outOffset + i * N + j] = row[j];
  }
}

/**
 * Copy rows [i0, i0+mc) × cols [k0, k0+kc) of A into `P` from `base` on, as micro-panels of MR rows:
 * P[base + (ir/MR)·kc·MR + k·MR + r] = A[i0+ir+r, k0+k]. Rows past M are zero, so a partial tile
 * computes zeros there and the caller keeps only the valid part.
 */
function packA(
  a: StridedMatrix, P: Float64Array, base: number, i0: number, mc: number, k0: number, kc: number, M: number,
): void {
  const { data: A, rowStride: s0, colStride: s1 } = a;
  let o = base;
  for (let ir = 0; ir < mc; ir += MR) {
    const i = i0 + ir;
    let p = a.offset + i * s0 + k0 * s1;
    if (i + MR <= M) {
      for (let k = 0; k < kc; k++, p += s1, o += MR) {
        P[o] = A[p];
        P[o + 1] = A[p + s0];
        P[o + 2] = A[p + 2 * s0];
        P[o + 3] = A[p + 3 * s0];
      }
    } else {
      for (let k = 0; k < kc; k++, p += s1) {
        for (let r = 0; r < MR; r++) P[o++] = i + r < M ? A[p + r * s0] : 0;
      }
    }
  }
}

/**
 * Copy rows [k0, k0+kc) × cols [j0, j0+nc) of B into `P` from `base` on, as micro-panels of NR
 * columns: P[base + (jr/NR)·kc·NR + k·NR + c] = B[k0+k, j0+jr+c]. Columns past N are zero.
 */
function packB(
  b: StridedMatrix, P: Float64Array, base: number, k0: number, kc: number, j0: number, nc: number, N: number,
): void {
  const { data: B, rowStride: s0, colStride: s1 } = b;
  let o = base;
  for (let jr = 0; jr < nc; jr += NR) {
    const j = j0 + jr;
    let p = b.offset + k0 * s0 + j * s1;
    if (j + NR <= N) {
      for (let k = 0; k < kc; k++, p += s0, o += NR) {
        P[o] = B[p];
        P[o + 1] = B[p + s1];
        P[o + 2] = B[p + 2 * s1];
        P[o + 3] = B[p + 3 * s1];
      }
    } else {
      for (let k = 0; k < kc; k++, p += s0) {
        for (let c = 0; c < NR; c++) P[o++] = j + c < N ? B[p + c * s1] : 0;
      }
    }
  }
}

/**
 * The register tile: C[4×4] += (A panel at P[ao..], 4×kc) · (B panel at P[bo..], kc×4), with the 16
 * partial sums in locals (float64) so the loop body is 8 unit-stride loads and 16 multiply-adds.
 * `C` is row-major with row stride `ldc`. NOTE: the `| 0` keeps the indices int32 so V8 drops its
 * overflow checks, and both panels live in one array so V8 checks one array per iteration, not
 * two (each measured at a few %).
 */
function kernel4x4(
  kc: number, P: Float64Array, ao: number, bo: number, C: Float64Array, co: number, ldc: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let pa = ao, pb = bo, end = (ao + kc * MR) | 0; pa < end; pa = (pa + MR) | 0, pb = (pb + NR) | 0) {
    const a0 = P[pa], a1 = P[(pa + 1) | 0], a2 = P[(pa + 2) | 0], a3 = P[(pa + 3) | 0];
    const b0 = P[pb], b1 = P[(pb + 1) | 0], b2 = P[(pb + 2) | 0], b3 = P[(pb + 3) | 0];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  C[co] += c00; C[co + 1] += c01; C[co + 2] += c02; C[co + 3] += c03; co += ldc;
  C[co] += c10; C[co + 1] += c11; C[co + 2] += c12; C[co + 3] += c13; co += ldc;
  C[co] += c20; C[co + 1] += c21; C[co + 2] += c22; C[co + 3] += c23; co += ldc;
  C[co] += c30; C[co + 1] += c31; C[co + 2] += c32; C[co + 3] += c33;
}

/** Scratch buffers of the blocked path, sized once per kernel call and reused across the batch. */
interface GemmScratch {
  /** Packed panels: the A block at [0, bBase), the B block from bBase on. */
  readonly panels: Float64Array;
  readonly bBase: number;
  /** One partial tile: rows past M or columns past N are computed here, then the valid part kept. */
  readonly edge: Float64Array;
  /** Float64 sums of one float32 output matrix, rounded once into the output at the end. */
  acc: Float64Array | null;
}

function gemmScratch(M: number, K: number, N: number): GemmScratch {
  const kc = Math.min(KC, K);
  const mc = Math.min(MC, Math.ceil(M / MR) * MR);
  const nc = Math.min(NC, Math.ceil(N / NR) * NR);
  return {
    panels: new Float64Array(mc * kc + kc * nc),
    bBase: mc * kc,
    edge: new Float64Array(MR * NR),
    acc: null,
  };
}

/**
 * C = A·B for one float matrix of the batch, blocked (GotoBLAS loop order): for each NC-wide slab
 * of B and KC-deep slice of K, pack that B block; for each MC-tall block of A, pack it; then sweep
 * 4×4 register tiles. Sums are float64 throughout: a float64 output accumulates in place, a float32
 * one in `scratch.acc`, rounded once at the end. A float64 `out` must be zero on entry.
 * NOTE: the kernel only ever writes Float64Arrays. Writing float32 outputs directly made its
 * stores polymorphic as soon as a program used both, and that cost 10–15% on small-K shapes.
 * @example gemmBlocked(a, b, out, 0, 63, 16, 63) // out[0..63·63) = a·b
 */
export function gemmBlocked(
  a: StridedMatrix, b: StridedMatrix, out: Float32Array | Float64Array, outOffset: number,
  M: number, K: number, N: number, scratch: GemmScratch = gemmScratch(M, K, N),
): void {
  const { panels: P, bBase, edge } = scratch;
  let C: Float64Array;
  let c0: number;
  if (out instanceof Float64Array) {
    C = out;
    c0 = outOffset;
  } else {
    scratch.acc ??= new Float64Array(M * N);
    C = scratch.acc;
    C.fill(0);
    c0 = 0;
  }
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      packB(b, P, bBase, k0, kc, j0, nc, N);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = Math.min(MC, M - i0);
        packA(a, P, 0, i0, mc, k0, kc, M);
        for (let jr = 0; jr < nc; jr += NR) {
          const bo = bBase + jr * kc;
          const cols = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const ao = ir * kc;
            const rows = Math.min(MR, mc - ir);
            const co = c0 + (i0 + ir) * N + j0 + jr;
            if (rows === MR && cols === NR) {
              kernel4x4(kc, P, ao, bo, C, co, N);
            } else {
              edge.fill(0);
              kernel4x4(kc, P, ao, bo, edge, 0, NR);
              for (let r = 0; r < rows; r++) {
                for (let c = 0; c < cols; c++) C[co + r * N + c] += edge[r * NR + c];
              }
            }
          }
        }
      }
    }
  }
  if (C !== out) out.set(C, outOffset);
}

/** Whether the blocked path pays for this float matrix shape (else the reference loop runs). */
export function useBlocked(dtype: DType, M: number, K: number, N: number): boolean {
  return dtype !== 'int32' && M >= 2 && N >= 2 && M * N * K >= BLOCKED_MIN_MACS;
}

/** Storage offset of each batch matrix of `t` (all dims but the last two). */
export function batchOffsets(t: Tensor): number[] {
  const nb = t.ndim - 2;
  const shape = t.shape.slice(0, nb);
  const count = sizeOf(shape);
  const out = new Array<number>(count);
  const idx = new Array<number>(nb).fill(0);
  for (let i = 0; i < count; i++) {
    let off = t.offset;
    for (let d = 0; d < nb; d++) off += idx[d] * t.strides[d];
    out[i] = off;
    for (let d = nb - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * The `matmul` kernel: [...batch, M, K] @ [...batch, K, N] → a fresh contiguous [...batch, M, N] of
 * `dtype`, each batch matrix by the blocked path when it pays, else by the reference loop.
 * @example matmulKernel([a, b], { dtype: 'float32' }) // a [2, 63, 16], b [2, 16, 63] → [2, 63, 63]
 */
export const matmulKernel: Kernel = ([a, b], { dtype }: { dtype: DType }) => {
  const M = a.shape[a.ndim - 2];
  const K = a.shape[a.ndim - 1];
  const N = b.shape[b.ndim - 1];
  const batch = a.shape.slice(0, -2);
  const out = allocate(dtype, sizeOf(batch) * M * N);
  const A = (a.storage as CpuStorage).data;
  const B = (b.storage as CpuStorage).data;
  const ao = batchOffsets(a);
  const bo = batchOffsets(b);
  const [as0, as1] = a.strides.slice(-2);
  const [bs0, bs1] = b.strides.slice(-2);
  const scratch = useBlocked(dtype, M, K, N) ? gemmScratch(M, K, N) : null;
  for (let p = 0; p < ao.length; p++) {
    const am: StridedMatrix = { data: A, offset: ao[p], rowStride: as0, colStride: as1 };
    const bm: StridedMatrix = { data: B, offset: bo[p], rowStride: bs0, colStride: bs1 };
    if (scratch === null) gemmReference(am, bm, out, p * M * N, M, K, N);
    else gemmBlocked(am, bm, out as Float32Array | Float64Array, p * M * N, M, K, N, scratch);
  }
  return new Tensor(new CpuStorage(out, dtype), [...batch, M, N]);
};
