// Batched matmul on the CPU. Operands arrive as strided views [...batch, M, K] @ [...batch, K, N]
// with equal batch shapes (broadcast batch dims have stride 0), so a transposed operand is read
// through its strides and never copied.
import { allocate, type DType, type TypedArray } from '../dtype.ts';
import { sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { CpuStorage } from '../storage.ts';
import type { Kernel } from './backend.ts';

/** Storage offset of each batch matrix of `t` (all dims but the last two). */
function batchOffsets(t: Tensor): number[] {
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

/** C[M×N] = A[M×K] · B[K×N] for one batch, any strides, accumulated in float64. */
function gemm(
  A: TypedArray, a0: number, as0: number, as1: number,
  B: TypedArray, b0: number, bs0: number, bs1: number,
  C: TypedArray, c0: number, M: number, K: number, N: number,
): void {
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let k = 0; k < K; k++) {
      const aik = A[a0 + i * as0 + k * as1];
      const bk = b0 + k * bs0;
      for (let j = 0; j < N; j++) row[j] += aik * B[bk + j * bs1];
    }
    for (let j = 0; j < N; j++) C[c0 + i * N + j] = row[j];
  }
}

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
  for (let p = 0; p < ao.length; p++) {
    gemm(A, ao[p], as0, as1, B, bo[p], bs0, bs1, out, p * M * N, M, K, N);
  }
  return new Tensor(new CpuStorage(out, dtype), [...batch, M, N]);
};
