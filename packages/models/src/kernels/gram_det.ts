// The fused `gramDet` kernel of triple-product attention, declared for each backend from here:
//   det = qq·kk·rr + 2·qk·rk·rq − qq·rk² − kk·rq² − rr·qk²
// elementwise over the six Gram entries (same-shape views; broadcast dims have stride 0). The CPU
// kernel is the reference; the gpu backend compiles the same expression to GLSL, the wasm backend to
// WebAssembly (float64 arithmetic in the same order, so float32 results equal the CPU kernel's). A backend without
// the kernel (or declining the call) hands it down the dispatcher's chain.
import { type DType, type Kernel, type Tensor, type WasmBackend, allocate, cpuTensor, registerKernels, rowsOf } from '@wedge/core';
import type { CpuStorage } from '@wedge/core';

const dataOf = (t: Tensor) => (t.storage as CpuStorage).data;

/**
 * The 3×3 Gram determinant from its six entries, elementwise over six same-shape views (the
 * triple-product attention of @wedge/models broadcasts [B, H, T, 1], [B, H, 1, T] and [B, H, T, T]):
 *   det = qq·kk·rr + 2·qk·rk·rq − qq·rk² − kk·rq² − rr·qk²
 * One pass instead of the composite's fourteen [B, H, T, T] temporaries.
 */
const gramDetCpu: Kernel = (inputs, { dtype }: { dtype: DType }) => {
  const out = allocate(dtype, inputs[0].size);
  const [QQ, KK, RR, QK, RK, RQ] = inputs.map(dataOf);
  const { n, starts, steps } = rowsOf(inputs);
  const [s0, s1, s2, s3, s4, s5] = steps;
  let p = 0;
  for (let r = 0; r < starts[0].length; r++) {
    let i0 = starts[0][r], i1 = starts[1][r], i2 = starts[2][r], i3 = starts[3][r], i4 = starts[4][r], i5 = starts[5][r];
    for (let j = 0; j < n; j++) {
      const qq = QQ[i0], kk = KK[i1], rr = RR[i2], qk = QK[i3], rk = RK[i4], rq = RQ[i5];
      out[p++] = qq * kk * rr + 2 * qk * rk * rq - qq * rk * rk - kk * rq * rq - rr * qk * qk;
      i0 += s0; i1 += s1; i2 += s2; i3 += s3; i4 += s4; i5 += s5;
    }
  }
  return cpuTensor(out, inputs[0].shape, dtype);
};

/** The part of @wedge/gpu's backend a registered elementwise kernel uses (typed here, so no import). */
interface GpuElementwiseBackend {
  elementwise(name: string, expr: (values: string[]) => string, inputs: readonly Tensor[], dtype: DType): Tensor;
}

/** The same expression on the GPU, in the CPU kernel's term order. */
const gramDetGpu: Kernel = (inputs, { dtype }: { dtype: DType }, backend) =>
  (backend as unknown as GpuElementwiseBackend).elementwise(
    'gramDet',
    ([qq, kk, rr, qk, rk, rq]) =>
      `${qq} * ${kk} * ${rr} + 2.0 * ${qk} * ${rk} * ${rq} - ${qq} * ${rk} * ${rk} - ${kk} * ${rq} * ${rq} - ${rr} * ${qk} * ${qk}`,
    inputs,
    dtype,
  );

/** The same expression in WebAssembly, term by term in the CPU kernel's order. */
const gramDetWasm: Kernel = (inputs, { dtype }: { dtype: DType }, backend) =>
  (backend as WasmBackend).elementwise(
    'gramDet',
    ([qq, kk, rr, qk, rk, rq], { add, sub, mul, c }) =>
      sub(sub(sub(add(mul(mul(qq, kk), rr), mul(mul(mul(c(2), qk), rk), rq)), mul(mul(qq, rk), rk)), mul(mul(kk, rq), rq)), mul(mul(rr, qk), qk)),
    inputs,
    dtype,
  );

registerKernels('cpu', { gramDet: gramDetCpu });
registerKernels('wasm', { gramDet: gramDetWasm });
registerKernels('gpu', { gramDet: gramDetGpu });
