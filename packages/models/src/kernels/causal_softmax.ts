// The fused `causalSoftmax` kernel of both attentions, declared for each backend from here:
//   y[..., i, j] = softmax_j(scale · x[..., i, j] with j > i masked to −∞) = 0 for j > i
// over the last two dims [T, T] of the scores (contiguous: the op makes them so). The CPU kernel is
// the reference (float64 arithmetic, rounded once into the dtype); the wasm backend scales and masks in one fused elementwise pass and
// runs its own softmax kernel on the result. A backend without the kernel hands it down the chain.
import { type DType, type Kernel, type Tensor, type WasmBackend, allocate, broadcastView, cpuTensor, kernelOf, registerKernels } from '@wedge/core';
import type { CpuStorage } from '@wedge/core';

/**
 * Row by row over a contiguous [..., T, T]: with m = max_{j ≤ i} scale·x_ij,
 * y_ij = e^(scale·x_ij − m) / Σ_{j ≤ i} e^(scale·x_ij − m) for j ≤ i, and 0 above the diagonal (what
 * softmax gives a −∞ score). A NaN among the kept scores makes the row NaN, as in the composite.
 */
const causalSoftmaxCpu: Kernel = ([x], { scale, dtype }: { scale: number; dtype: DType }) => {
  const T = x.shape[x.ndim - 1];
  const out = allocate(dtype, x.size);
  const data = (x.storage as CpuStorage).data;
  const e = new Float64Array(T);
  for (let p = 0, i = 0; p < x.size; p += T, i = (i + 1) % T) {
    const at = x.offset + p; // row i of one [T, T] matrix
    let m = -Infinity;
    for (let j = 0; j <= i; j++) m = Math.max(m, (e[j] = scale * data[at + j]));
    let s = 0;
    for (let j = 0; j <= i; j++) s += (e[j] = Math.exp(e[j] - m));
    for (let j = 0; j <= i; j++) out[p + j] = e[j] / s;
    for (let j = i + 1; j < T; j++) out[p + j] = 0;
  }
  return cpuTensor(out, x.shape, dtype);
};

/** The additive causal mask [T, T] (0 on and below the diagonal, −∞ above), cached per size and dtype. */
const masks = new Map<string, Tensor>();
function additiveMask(T: number, dtype: DType): Tensor {
  const key = `${T}:${dtype}`;
  let m = masks.get(key);
  if (m === undefined) {
    const data = allocate(dtype, T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = -Infinity;
    m = cpuTensor(data, [T, T], dtype);
    masks.set(key, m);
  }
  return m;
}

/**
 * In WebAssembly: one fused pass scale·x + mask (mask 0 or −∞, broadcast over the batch dims with
 * stride 0; NOTE: an infinite score under the mask gives NaN there, where the composite gives −∞),
 * then the backend's softmax kernel over the last dim.
 */
const causalSoftmaxWasm: Kernel = ([x], { scale, dtype }: { scale: number; dtype: DType }, backend) => {
  const wasm = backend as WasmBackend;
  const softmax = kernelOf(wasm, 'softmax')!;
  const mask = broadcastView(additiveMask(x.shape[x.ndim - 1], dtype), x.shape); // [..., T, T], stride 0 over the batch dims
  const s = broadcastView(cpuTensor(allocate(dtype, 1).fill(scale), [1], dtype), x.shape); // the scale, an operand (a kernel compiles once per name)
  const masked = wasm.elementwise('causalScaleMask', ([v, k, s], { add, mul }) => add(mul(s, v), k), [x, mask, s], dtype);
  const y = softmax([masked], { dim: x.ndim - 1 }, wasm);
  masked.dispose();
  return y;
};

registerKernels('cpu', { causalSoftmax: causalSoftmaxCpu });
registerKernels('wasm', { causalSoftmax: causalSoftmaxWasm });
