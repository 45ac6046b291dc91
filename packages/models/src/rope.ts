// Rotary position embedding (RoPE) exactly as the seed lays it out: the pairs are the even and odd
// features x[..., 0::2], x[..., 1::2], and the output is the two rotated halves concatenated
// (NOT re-interleaved), so feature i of the output is not the rotated feature i of the input.
import { type DType, Module, type Tensor, WedgeError, arange, cat, defineOp, div, einsum, fmtShape, pow, runKernel } from '@wedge/core';
import './kernels/rope.ts'; // registers the fused rope kernel on each backend

/**
 * The angle tables of RoPE: θ_j = 10000^(−2j/dim) and angle[t, j] = t · θ_j, as cos and sin,
 * each [maxLen, dim/2]. Computed in float32 step by step as the seed does (then cast), so the
 * buffers match PyTorch's to the last bit or two.
 * @example const { cos, sin } = ropeTables(16, 64); // cos: [64, 8]
 */
export function ropeTables(dim: number, maxLen: number, dtype: DType = 'float32'): { cos: Tensor; sin: Tensor } {
  if (!Number.isInteger(dim) || dim <= 0 || dim % 2 !== 0) {
    throw new WedgeError(`RoPE: dim must be a positive even integer, got ${dim}`);
  }
  if (!Number.isInteger(maxLen) || maxLen <= 0) throw new WedgeError(`RoPE: maxLen must be a positive integer, got ${maxLen}`);
  const invFreq = div(1, pow(10000, arange(0, dim, 2).float().div(dim))); //         [dim/2]
  const t = arange(maxLen).float(); //                                              [maxLen]
  const freqs = einsum('i,j->ij', t, invFreq); //                                   [maxLen, dim/2]
  return { cos: freqs.cos().to(dtype), sin: freqs.sin().to(dtype) };
}

function checkRope(x: Tensor, cos: Tensor): void {
  const T = x.shape[x.ndim - 2];
  const D = x.shape[x.ndim - 1];
  if (x.ndim < 2 || D !== 2 * cos.shape[1]) {
    throw new WedgeError(`RoPE: input ${fmtShape(x.shape)} must end in [T, ${2 * cos.shape[1]}] (tables ${fmtShape(cos.shape)})`);
  }
  if (T > cos.shape[0]) {
    throw new WedgeError(`RoPE: sequence length ${T} exceeds maxLen ${cos.shape[0]} (input ${fmtShape(x.shape)}); build the model with a larger maxLen`);
  }
}

/**
 * Rotate `x` [B, H, T, D] by the first T rows of the tables `cos`, `sin` [maxLen, D/2], written
 * as the seed writes it: out = cat(x₁·cos − x₂·sin, x₁·sin + x₂·cos) with x₁ = x[..., 0::2],
 * x₂ = x[..., 1::2] (strided views). The reference applyRope is tested against.
 * @example applyRopeComposite(q, cos, sin) // [B, H, T, D]
 */
export function applyRopeComposite(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  checkRope(x, cos);
  const T = x.shape[x.ndim - 2];
  const c = cos.slice(0, 0, T); //                      [T, D/2], broadcasts over [B, H]
  const s = sin.slice(0, 0, T); //                      [T, D/2]
  const x1 = x.slice(-1, 0, undefined, 2); //           [B, H, T, D/2]  x[..., 0::2] (a view)
  const x2 = x.slice(-1, 1, undefined, 2); //           [B, H, T, D/2]  x[..., 1::2]
  const rot1 = x1.mul(c).sub(x2.mul(s)); //             [B, H, T, D/2]  −x₂·sin + x₁·cos
  const rot2 = x1.mul(s).add(x2.mul(c)); //             [B, H, T, D/2]   x₁·sin + x₂·cos
  return cat([rot1, rot2], -1); //                      [B, H, T, D]
}

// RoPE is linear in x: its gradient is the transposed rotation, and the transpose's gradient is
// RoPE again, so the two directions are one op whose backward flips `transpose` (and so
// differentiates any number of times). The tables are constants (no gradient).
const ropeOp: (inputs: readonly Tensor[], attrs: { transpose: boolean }) => Tensor = defineOp<{ transpose: boolean }>({
  name: 'rope',
  inputs: ['x', 'cos', 'sin'],
  forward: ([x, cos, sin], attrs) => runKernel('rope', [x, cos, sin], attrs),
  backward: (gOut, { inputs: [, cos, sin], attrs }) => ({ x: () => ropeOp([gOut, cos, sin], { transpose: !attrs.transpose }) }),
});

/**
 * RoPE in the seed's layout (see applyRopeComposite for the lines) as one fused kernel each way:
 * the composite's seven half-size temporaries, concatenation and strided scatters become one pass.
 * @example applyRope(q, cos, sin) // [B, H, T, D] → [B, H, T, D]
 */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  checkRope(x, cos);
  return ropeOp([x, cos, sin], { transpose: false }); // [B, H, T, D]
}

/**
 * RoPE as a module: the tables are buffers `cos` and `sin` [maxLen, dim/2], saved in the state dict
 * as PyTorch saves them ('attn.rope.cos', 'attn.rope.sin').
 * @example const rope = new RoPE(16, 64); rope.forward(q) // [B, H, T, 16] → [B, H, T, 16]
 */
export class RoPE extends Module {
  declare cos: Tensor; // [maxLen, dim/2]
  declare sin: Tensor; // [maxLen, dim/2]

  constructor(
    readonly dim: number,
    readonly maxLen = 4096,
    opts: { dtype?: DType } = {},
  ) {
    super();
    const { cos, sin } = ropeTables(dim, maxLen, opts.dtype);
    this.registerBuffer('cos', cos);
    this.registerBuffer('sin', sin);
  }

  forward(x: Tensor): Tensor {
    return applyRope(x, this.cos, this.sin); // [B, H, T, D]
  }
}
