// Standard (dot-product) causal self-attention with RoPE, as the seed's StandardAttention:
//   scores = (RoPE(Q) · RoPE(K)ᵀ) / √d_head, masked causally, softmax, then · V.
// Also the helpers both attentions share (head split/merge, the causal mask).
import { type DType, type Generator, Linear, Module, type Tensor, WedgeError, fmtShape, keep, ones, tril } from '@wedge/core';
import { RoPE } from './rope.ts';

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
    const scores = q.matmul(k.mT).mul(this.scale); //              [B, H, T, T]  q_i·k_j / √D
    const masked = scores.maskedFill(causalMask(T), -Infinity); // [B, H, T, T]  j > i → −∞
    const attn = masked.softmax(-1); //                            [B, H, T, T]  rows sum to 1
    const y = attn.matmul(v); //                                   [B, H, T, D]
    return this.o.forward(mergeHeads(y)); //                       [B, T, C]
  }
}
