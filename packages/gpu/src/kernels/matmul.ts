// Batched matmul on the GPU: [...batch, M, K] @ [...batch, K, N] with equal batch shapes, as core's
// matmul op hands it over. Broadcast batch dims (stride 0) and transposed operands are read through
// their strides, so Aᵀ·G and G·Bᵀ in the backward pass copy nothing. One thread per output element.
import type { DType, Tensor } from '@wedge/core';
import { emitOffsets, lit } from '../codegen.ts';
import { operandKey, operandOf, readOperand, type KernelRunner } from '../runtime.ts';

/** C[b, i, j] = Σₖ A[b, i, k] · B[b, k, j], accumulated in float32. */
export function matmul(runner: KernelRunner, a: Tensor, b: Tensor, dtype: DType): Tensor {
  const nb = a.ndim - 2;
  const [M, K] = a.shape.slice(nb);
  const N = b.shape[b.ndim - 1];
  const batch = a.shape.slice(0, nb);
  const ops = [operandOf(a), operandOf(b)];
  const key = `matmul|${a.shape.join(',')}x${N}|${ops.map(operandKey).join('|')}`;
  const source = (): string => {
    const [as0, as1] = ops[0].strides.slice(nb);
    const [bs0, bs1] = ops[1].strides.slice(nb);
    const batchOps = ops.filter((o) => o.kind !== 'num').map((o) => ({ offset: o.offset, strides: o.strides.slice(0, nb) }));
    const at = (k: number, base: string, step: string): string => readOperand(ops, k, `${base} + ${step}`);
    // thread → (batch index bi, row r, column j)
    return `function(a0, a1) {
      const i = this.thread.x + 0.0;
      const row = ${N === 1 ? 'i' : `wedgeFloorDiv(i, ${lit(N)})`};
      const j = i - row * ${lit(N)};
      const bi = ${M === 1 ? 'row' : `wedgeFloorDiv(row, ${lit(M)})`};
      const r = row - bi * ${lit(M)};
      ${emitOffsets('bi', batch, batchOps, 'p')}
      const abase = ${ops[0].kind === 'num' ? '0.0' : `p0 + r * ${lit(as0)}`};
      const bbase = ${ops[1].kind === 'num' ? '0.0' : `p${ops[0].kind === 'num' ? 0 : 1} + j * ${lit(bs1)}`};
      let s = 0.0;
      for (let k = 0; k < ${K}; k++) {
        s += ${at(0, 'abase', `k * ${lit(as1)}`)} * ${at(1, 'bbase', `k * ${lit(bs0)}`)};
      }
      return s;
    }`;
  };
  return runner.run(key, source, ops, [...batch, M, N], dtype);
}
