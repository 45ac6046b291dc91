// Standard (dot-product) causal self-attention with RoPE, as the seed's StandardAttention:
//   scores = (RoPE(Q) · RoPE(K)ᵀ) / √d_head, masked causally, softmax, then · V.
// Also the helpers both attentions share (head split/merge, the causal mask, the fused causalSoftmax).
import {
  type DType, type Generator, Linear, Module, type Tensor, WedgeError, defineOp, fmtShape, keep, noGrad, ones, runKernel, tril,
} from '@wedge/core';
import { RoPE } from './rope.ts';
import './kernels/causal_softmax.ts'; // registers the fused causalSoftmax kernel on each backend

/** Options every attention module takes. @example new StandardAttention(64, 4, 128, { generator: new Generator(0), dtype: 'float64' }) */
export interface AttentionOptions {
  /** Draws the initial weights (PyTorch's default inits); the default generator when absent. */
  generator?: Generator;
  /** float32 (default), or float64 for gradchecks. */
  dtype?: DType;
}

const masks = new Map<number, Tensor>();

/**
 * The causal mask as the seed builds it, tril(ones(T, T)) == 0: true above the diagonal, where
 * query i would see a future key j > i. Cached per T (it holds no gradient and never changes).
 * @example scores.maskedFill(causalMask(T), -Infinity) // [B, H, T, T]
 */
export function causalMask(T: number): Tensor {
  let mask = masks.get(T);
  if (mask === undefined) {
    mask = keep(tril(ones([T, T])).eq(0)); // [T, T] bool; kept: a tidy() scope must not free the cache
    masks.set(T, mask);
  }
  return mask;
}

const causalSoftmaxOp = defineOp<{ scale: number; dtype: DType }>({
  name: 'causalSoftmax',
  inputs: ['x'],
  forward: ([x], attrs) => runKernel('causalSoftmax', [x.isContiguous() ? x : noGrad(() => x.contiguous())], attrs),
  // y = softmax_j(scale·x_ij, j ≤ i):  ∂L/∂x = scale · y ⊙ (gOut − Σ_j gOut⊙y)  (0 above the diagonal, where y = 0)
  backward: (gOut, { out, attrs: { scale } }) => ({ x: () => out.mul(gOut.sub(gOut.mul(out).sum(-1, true))).mul(scale) }),
});

/**
 * softmax(scale · x masked causally) over the last dim of scores x [..., T, T]: the three lines
 * `x.mul(scale).maskedFill(causalMask(T), -Infinity).softmax(-1)` (causalSoftmaxComposite) as one
 * fused kernel forward; the backward is written with ops, so it differentiates again. Equals the
 * composite up to float rounding (the kernel rounds once).
 * @example causalSoftmax(q.matmul(k.mT), 1 / Math.sqrt(D)) // [B, H, T, T], rows sum to 1
 */
export function causalSoftmax(x: Tensor, scale: number): Tensor {
  const T = x.shape[x.ndim - 1];
  if (x.ndim < 2 || x.shape[x.ndim - 2] !== T) {
    throw new WedgeError(`causalSoftmax: needs square scores [..., T, T], got ${fmtShape(x.shape)}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new WedgeError(`causalSoftmax: needs a floating-point tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
  if (!Number.isFinite(scale)) throw new WedgeError(`causalSoftmax: scale must be finite, got ${scale}`);
  return causalSoftmaxOp([x], { scale, dtype: x.dtype });
}

/**
 * The seed's lines: scale, causal mask, softmax, as three core ops (the reference causalSoftmax is
 * tested against).
 * @example causalSoftmaxComposite(scores, 0.25) // [B, H, T, T], as causalSoftmax
 */
export function causalSoftmaxComposite(x: Tensor, scale: number): Tensor {
  const T = x.shape[x.ndim - 1];
  const scaled = x.mul(scale); //                                [..., T, T]
  const masked = scaled.maskedFill(causalMask(T), -Infinity); // [..., T, T]  j > i → −∞
  return masked.softmax(-1); //                                 [..., T, T]
}

/**
 * [B, T, H·D] → [B, H, T, D] (a view when the input's last dim is contiguous).
 * @example splitHeads(q, 4) // [32, 63, 64] → [32, 4, 63, 16]
 */
export function splitHeads(x: Tensor, nHead: number): Tensor {
  const [B, T, C] = x.shape;
  return x.view([B, T, nHead, C / nHead]).transpose(1, 2); // [B, H, T, D]
}

/**
 * [B, H, T, D] → [B, T, H·D], the seed's y.transpose(1, 2).contiguous().view(B, T, C).
 * @example mergeHeads(y) // [32, 4, 63, 16] → [32, 63, 64]
 */
export function mergeHeads(y: Tensor): Tensor {
  const [B, H, T, D] = y.shape;
  return y.transpose(1, 2).contiguous().view([B, T, H * D]); // [B, T, C]
}

/** Check the constructor's sizes and return d_head. */
export function headDim(layer: string, dModel: number, nHead: number): number {
  if (!Number.isInteger(dModel) || !Number.isInteger(nHead) || dModel <= 0 || nHead <= 0 || dModel % nHead !== 0) {
    throw new WedgeError(`${layer}: dModel (${dModel}) must be a positive multiple of nHead (${nHead})`);
  }
  const dHead = dModel / nHead;
  if (dHead % 2 !== 0) throw new WedgeError(`${layer}: d_head = dModel / nHead = ${dHead} must be even for RoPE`);
  return dHead;
}

/** Check that `x` is [B, T, dModel]. */
export function checkInput(layer: string, x: Tensor, dModel: number): void {
  if (x.ndim !== 3 || x.shape[2] !== dModel) {
    throw new WedgeError(`${layer}: input must be [B, T, ${dModel}], got ${fmtShape(x.shape)}`);
  }
}

/**
 * The seed's StandardAttention: one fused projection `qkv` [3C, C] split into Q, K, V, RoPE on Q
 * and K, scale 1/√d_head, causal mask, softmax, and the output projection `o` [C, C]. No biases.
 * State dict: 'qkv.weight', 'o.weight', 'rope.cos', 'rope.sin'.
 * @example new StandardAttention(64, 4, 64).forward(h) // [B, T, 64] → [B, T, 64]
 */
export class StandardAttention extends Module {
  readonly dHead: number;
  /** 1/√d_head, as the seed's Python float. */
  readonly scale: number;
  qkv: Linear;
  o: Linear;
  rope: RoPE;
  /** false: the seed's composite lines (scale, mask, softmax) instead of causalSoftmax, to compare and measure. */
  fuseSoftmax = true;

  constructor(
    readonly dModel: number,
    readonly nHead: number,
    readonly maxLen = 128,
    opts: AttentionOptions = {},
  ) {
    super();
    this.dHead = headDim('StandardAttention', dModel, nHead);
    this.scale = 1 / Math.sqrt(this.dHead);
    const init = { bias: false, generator: opts.generator, dtype: opts.dtype };
    this.qkv = new Linear(dModel, 3 * dModel, init);
    this.o = new Linear(dModel, dModel, init);
    this.rope = new RoPE(this.dHead, maxLen, { dtype: opts.dtype });
  }

  forward(x: Tensor): Tensor {
    checkInput('StandardAttention', x, this.dModel);
    const [, T, C] = x.shape; //                                  x: [B, T, C]
    const [qf, kf, vf] = this.qkv.forward(x).split(C, 2); //       [B, T, C] each (views of [B, T, 3C])
    const q = this.rope.forward(splitHeads(qf, this.nHead)); //    [B, H, T, D]
    const k = this.rope.forward(splitHeads(kf, this.nHead)); //    [B, H, T, D]
    const v = splitHeads(vf, this.nHead); //                       [B, H, T, D]
    const qk = q.matmul(k.mT); //                                  [B, H, T, T]  q_i·k_j
    const attn = this.fuseSoftmax
      ? causalSoftmax(qk, this.scale) //                           [B, H, T, T]  softmax_j≤i(q_i·k_j / √D)
      : causalSoftmaxComposite(qk, this.scale); //                 [B, H, T, T]  the seed's lines: scale, mask, softmax
    const y = attn.matmul(v); //                                   [B, H, T, D]
    return this.o.forward(mergeHeads(y)); //                       [B, T, C]
  }
}
