// The fused `rope` kernel (RoPE and its transpose in one pass), declared for each backend from here.
// The CPU kernel is the reference; the wasm backend runs the same arithmetic over strided views (two
// elementwise passes, one per half of the output); others hand the call down the dispatcher's chain.
import { type Kernel, Tensor, type WasmBackend, allocate, contiguousStrides, cpuTensor, registerKernels, rowStarts } from '@wedge/core';
import type { CpuStorage } from '@wedge/core';

const dataOf = (t: Tensor) => (t.storage as CpuStorage).data;

/**
 * Rotary position embedding in the layout of @wedge/models (pairs x[2j], x[2j+1]; the rotated
 * halves concatenated, not re-interleaved), for x [..., T, D] and tables cos, sin [≥ T, D/2]:
 *   out[..., t, j]       = x[2j]·cos[t, j] − x[2j+1]·sin[t, j]
 *   out[..., t, D/2 + j] = x[2j]·sin[t, j] + x[2j+1]·cos[t, j]
 * With `transpose`, the adjoint map (RoPE's gradient, and its inverse), from the same layout back:
 *   out[..., t, 2j] = g[j]·cos + g[D/2 + j]·sin,   out[..., t, 2j + 1] = g[D/2 + j]·cos − g[j]·sin
 */
const ropeCpu: Kernel = ([x, cos, sin], { transpose }: { transpose: boolean }) => {
  const D = x.shape[x.ndim - 1];
  const T = x.shape[x.ndim - 2];
  const half = D / 2;
  const out = allocate(x.dtype, x.size);
  const X = dataOf(x), C = dataOf(cos), S = dataOf(sin);
  const sd = x.strides[x.ndim - 1];
  const [ct, cj] = cos.strides;
  const [st, sj] = sin.strides;
  const starts = rowStarts([...x.shape.slice(0, -1), 1], [...x.strides.slice(0, -1), 0], x.offset); // one row per (…, t)
  for (let r = 0; r < starts.length; r++) {
    const t = r % T;
    const base = starts[r];
    const p = r * D;
    for (let j = 0; j < half; j++) {
      const c = C[cos.offset + t * ct + j * cj];
      const s = S[sin.offset + t * st + j * sj];
      if (!transpose) {
        const a = X[base + 2 * j * sd];
        const b = X[base + (2 * j + 1) * sd];
        out[p + j] = a * c - b * s;
        out[p + half + j] = a * s + b * c;
      } else {
        const u = X[base + j * sd];
        const v = X[base + (half + j) * sd];
        out[p + 2 * j] = u * c + v * s;
        out[p + 2 * j + 1] = v * c - u * s;
      }
    }
  }
  return cpuTensor(out, x.shape, x.dtype);
};

/** A view of `t`'s storage: `t`'s shape with the last dim `len` long from `start`, stepping by `step`. */
function lastDimView(t: Tensor, start: number, len: number, step: number): Tensor {
  const nd = t.ndim;
  const strides = [...t.strides];
  strides[nd - 1] *= step;
  return new Tensor(t.storage, [...t.shape.slice(0, -1), len], strides, t.offset + start * t.strides[nd - 1]);
}

/**
 * RoPE on the wasm backend: the halves of the output (forward) or its even and odd elements
 * (transpose) are written by two elementwise passes over views of x and of the tables
 * (cos, sin [T, D/2] broadcast over the batch dims with stride 0).
 */
const ropeWasm: Kernel = ([x, cos, sin], { transpose }: { transpose: boolean }, backend) => {
  const wasm = backend as WasmBackend;
  const D = x.shape[x.ndim - 1];
  const T = x.shape[x.ndim - 2];
  const half = D / 2;
  const lead = x.shape.slice(0, -2);
  const table = (t: Tensor): Tensor => new Tensor(t.storage, [...lead, T, half], [...lead.map(() => 0), t.strides[0], t.strides[1]], t.offset);
  const [c, s] = [table(cos), table(sin)]; //                     [..., T, D/2]
  const out = wasm.empty(x.shape, x.dtype); //                    [..., T, D]
  const outStrided = new Tensor(out.storage, out.shape, contiguousStrides(out.shape), 0);
  if (!transpose) {
    const [a, b] = [lastDimView(x, 0, half, 2), lastDimView(x, 1, half, 2)]; // x[..., 0::2], x[..., 1::2]
    wasm.elementwise('ropeLo', ([a, b, c, s], { sub, mul }) => sub(mul(a, c), mul(b, s)), [a, b, c, s], x.dtype, lastDimView(outStrided, 0, half, 1));
    wasm.elementwise('ropeHi', ([a, b, c, s], { add, mul }) => add(mul(a, s), mul(b, c)), [a, b, c, s], x.dtype, lastDimView(outStrided, half, half, 1));
  } else {
    const [u, v] = [lastDimView(x, 0, half, 1), lastDimView(x, half, half, 1)]; // g[..., :D/2], g[..., D/2:]
    wasm.elementwise('ropeTEven', ([u, v, c, s], { add, mul }) => add(mul(u, c), mul(v, s)), [u, v, c, s], x.dtype, lastDimView(outStrided, 0, half, 2));
    wasm.elementwise('ropeTOdd', ([u, v, c, s], { sub, mul }) => sub(mul(v, c), mul(u, s)), [u, v, c, s], x.dtype, lastDimView(outStrided, 1, half, 2));
  }
  return out;
};

registerKernels('cpu', { rope: ropeCpu });
registerKernels('wasm', { rope: ropeWasm });
