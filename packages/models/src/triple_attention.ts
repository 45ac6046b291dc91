// Triple-product attention (the seed's TripleProductAttention). For query i and key j, with a third
// "reference" vector r_i from the query's own token, the score is the negative Gram determinant
//
//   G = ⎡ q·q  q·k  q·r ⎤     det G = qq·kk·rr + 2·qk·rk·rq − qq·rk² − kk·rq² − rr·qk²
//       ⎢ k·q  k·k  k·r ⎥
//       ⎣ r·q  r·k  r·r ⎦     score_ij = −det G(q_i, k_j, r_i) · d_head^−1.5
//
// det G is the squared volume of the parallelepiped spanned by q_i, k_j, r_i: zero exactly when k_j
// lies in the plane of q_i and r_i, so the softmax favours keys in that plane, whatever their norm.
// Then: causal mask, softmax over j (one fused causalSoftmax), weighted sum of v_j, output projection.
// RoPE acts on q, k and r.
import {
  type DType, Linear, Module, Tensor, broadcastShapes, broadcastView, defineOp, promoteTypes, runKernel,
} from '@wedge/core';
import { type AttentionOptions, causalMask, causalSoftmax, checkInput, headDim, mergeHeads, splitHeads } from './attention.ts';
import { RoPE } from './rope.ts';
import './kernels/gram_det.ts'; // registers the fused gramDet kernel on each backend

const gramDetOp = defineOp<{ dtype: DType }>({
  name: 'gramDet',
  inputs: ['qq', 'kk', 'rr', 'qk', 'rk', 'rq'],
  forward: (xs, attrs) => {
    const shape = broadcastShapes('gramDet', ...xs.map((x) => x.shape));
    return runKernel('gramDet', xs.map((x) => broadcastView(x, shape)), attrs);
  },
  // one partial derivative of det G per entry; the engine sums each back to its input's shape
  backward: (gOut, { inputs: [qq, kk, rr, qk, rk, rq] }) => {
    let g2: Tensor | null = null;
    const twice = (): Tensor => (g2 ??= gOut.mul(2));
    return {
      qq: () => gOut.mul(kk.mul(rr).sub(rk.mul(rk))), //   ∂/∂qq = kk·rr − rk²
      kk: () => gOut.mul(qq.mul(rr).sub(rq.mul(rq))), //   ∂/∂kk = qq·rr − rq²
      rr: () => gOut.mul(qq.mul(kk).sub(qk.mul(qk))), //   ∂/∂rr = qq·kk − qk²
      qk: () => twice().mul(rk.mul(rq).sub(rr.mul(qk))), // ∂/∂qk = 2(rk·rq − rr·qk)
      rk: () => twice().mul(qk.mul(rq).sub(qq.mul(rk))), // ∂/∂rk = 2(qk·rq − qq·rk)
      rq: () => twice().mul(qk.mul(rk).sub(kk.mul(rq))), // ∂/∂rq = 2(qk·rk − kk·rq)
    };
  },
});

/**
 * det G = qq·kk·rr + 2·qk·rk·rq − qq·rk² − kk·rq² − rr·qk² from the six Gram entries, which
 * broadcast ([B, H, T, 1], [B, H, 1, T], [B, H, T, T] → [B, H, T, T]). One fused kernel forward
 * (the composite makes fourteen [B, H, T, T] temporaries and twice as many again backward); the
 * backward is written with ops, so it differentiates again. Equals gramDeterminantComposite up
 * to float rounding (the kernel rounds once, the composite after every step).
 * @example gramDeterminant(qq, kk, rr, qk, rk, rq) // [B, H, T, T]
 */
export function gramDeterminant(qq: Tensor, kk: Tensor, rr: Tensor, qk: Tensor, rk: Tensor, rq: Tensor): Tensor {
  const xs = [qq, kk, rr, qk, rk, rq];
  broadcastShapes('gramDet', ...xs.map((x) => x.shape)); // checked before any kernel runs
  return gramDetOp(xs, { dtype: xs.map((x) => x.dtype).reduce(promoteTypes) });
}

/**
 * The seed's lines, term by term, as a composite of core ops: the reference gramDeterminant is
 * tested against.
 * @example gramDeterminantComposite(qq, kk, rr, qk, rk, rq) // [B, H, T, T], as gramDeterminant
 */
export function gramDeterminantComposite(qq: Tensor, kk: Tensor, rr: Tensor, qk: Tensor, rk: Tensor, rq: Tensor): Tensor {
  const term1 = qq.mul(kk).mul(rr); //              [B, H, T, T]  qq·kk·rr
  const term2 = qk.mul(2).mul(rk).mul(rq); //       [B, H, T, T]  2·qk·rk·rq
  const term3 = qq.mul(rk.pow(2)).neg(); //         [B, H, T, T]  −qq·rk²
  const term4 = kk.mul(rq.pow(2)).neg(); //         [B, H, T, T]  −kk·rq²
  const term5 = rr.mul(qk.pow(2)).neg(); //         [B, H, T, T]  −rr·qk²
  return term1.add(term2).add(term3).add(term4).add(term5); // [B, H, T, T]
}

/**
 * The seed's lines from det G to the attention weights, as core ops (what causalSoftmax(gramDet,
 * −scale) fuses into one kernel; tested against it).
 * @example tripleAttentionWeightsComposite(gramDet, 1 / 16 ** 1.5) // [B, H, T, T]
 */
export function tripleAttentionWeightsComposite(gramDet: Tensor, scale: number): Tensor {
  const T = gramDet.shape[gramDet.ndim - 1];
  const scores = gramDet.neg().mul(scale); //                     [B, H, T, T]  −det G / D^1.5
  const masked = scores.maskedFill(causalMask(T), -Infinity); //  [B, H, T, T]  j > i → −∞
  return masked.softmax(-1); //                                   [B, H, T, T]
}

/**
 * The seed's TripleProductAttention: projections W_q, W_k, W_r, W_v, W_o (each [C, C], no bias),
 * RoPE on Q, K and R, score = −det G · d_head^−1.5, causal mask, softmax.
 * State dict: 'W_q.weight' … 'W_o.weight', 'rope.cos', 'rope.sin'.
 * @example new TripleProductAttention(64, 4, 64).forward(h) // [B, T, 64] → [B, T, 64]
 */
export class TripleProductAttention extends Module {
  readonly dHead: number;
  /** d_head^−1.5: det G has degree 6 in the vectors where q·k has degree 2. */
  readonly scale: number;
  W_q: Linear;
  W_k: Linear;
  W_r: Linear;
  W_v: Linear;
  W_o: Linear;
  rope: RoPE;
  /** false: the seed's composite lines (−det G · scale, mask, softmax) instead of causalSoftmax, to compare and measure. */
  fuseSoftmax = true;

  constructor(
    readonly dModel: number,
    readonly nHead: number,
    readonly maxLen = 128,
    opts: AttentionOptions = {},
  ) {
    super();
    this.dHead = headDim('TripleProductAttention', dModel, nHead);
    this.scale = 1 / this.dHead ** 1.5;
    const init = { bias: false, generator: opts.generator, dtype: opts.dtype };
    this.W_q = new Linear(dModel, dModel, init);
    this.W_k = new Linear(dModel, dModel, init);
    this.W_r = new Linear(dModel, dModel, init);
    this.W_v = new Linear(dModel, dModel, init);
    this.W_o = new Linear(dModel, dModel, init);
    this.rope = new RoPE(this.dHead, maxLen, { dtype: opts.dtype });
  }

  forward(x: Tensor): Tensor {
    checkInput('TripleProductAttention', x, this.dModel);
    const T = x.shape[1]; //                                                x: [B, T, C]
    const H = this.nHead;
    const q = this.rope.forward(splitHeads(this.W_q.forward(x), H)); //     [B, H, T, D]
    const k = this.rope.forward(splitHeads(this.W_k.forward(x), H)); //     [B, H, T, D]
    const r = this.rope.forward(splitHeads(this.W_r.forward(x), H)); //     [B, H, T, D]
    const v = splitHeads(this.W_v.forward(x), H); //                        [B, H, T, D]

    const qq = q.mul(q).sum(-1, true); //                                   [B, H, T, 1]  q_i·q_i
    const rr = r.mul(r).sum(-1, true); //                                   [B, H, T, 1]  r_i·r_i
    const rq = r.mul(q).sum(-1, true); //                                   [B, H, T, 1]  r_i·q_i
    const kk = k.mul(k).sum(-1, true).mT; //                                [B, H, 1, T]  k_j·k_j
    const qk = q.matmul(k.mT); //                                           [B, H, T, T]  q_i·k_j
    const rk = r.matmul(k.mT); //                                           [B, H, T, T]  r_i·k_j

    const gramDet = gramDeterminant(qq, kk, rr, qk, rk, rq); //            [B, H, T, T]  det G ≥ 0
    const attn = this.fuseSoftmax
      ? causalSoftmax(gramDet, -this.scale) //                              [B, H, T, T]  softmax_j≤i(−det G / D^1.5)
      : tripleAttentionWeightsComposite(gramDet, this.scale); //            [B, H, T, T]  the same, three ops
    const y = attn.matmul(v); //                                            [B, H, T, D]
    return this.W_o.forward(mergeHeads(y)); //                              [B, T, C]
  }
}
