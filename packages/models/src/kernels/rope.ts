// The fused `rope` kernel (RoPE and its transpose in one pass), declared for each backend from here.
// The CPU kernel is the reference; backends without it hand the call down the dispatcher's chain.
import { type Kernel, type Tensor, allocate, cpuTensor, registerKernels, rowStarts } from '@wedge/core';
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

registerKernels('cpu', { rope: ropeCpu });
