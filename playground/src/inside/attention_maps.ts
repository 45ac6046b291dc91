// The attention weights of every head, and the triple model's −det G scores, for one sequence.
// TestModel keeps no intermediate tensors, so this re-runs the attention layer's forward from its
// public modules, line for line as packages/models writes it; a test checks that these weights,
// pushed through V and the output projection, give exactly what the layer itself returns.
import { Tensor, noGrad, tidy } from '@wedge/core';
import {
  type StandardAttention, type TestModel, type TripleProductAttention, causalMask, causalSoftmax, gramDeterminant, mergeHeads, splitHeads,
} from '@wedge/models';

export interface AttentionMaps {
  attnType: 'standard' | 'triple';
  heads: number;
  /** Positions (the model's input length, L − 1). */
  T: number;
  /** softmax weights, [H, T, T] row-major: weights[h][i][j] is how much query i reads key j. */
  weights: Float32Array;
  /** Triple only: the unscaled score −det G(q_i, k_j, r_i), [H, T, T] (−Infinity above the diagonal). */
  gramScore?: Float32Array;
  /** The layer's output [1, T, C] from these weights (for the consistency check). */
  output: Tensor;
}

/**
 * The maps of `model` on one sequence `ids` [T] (int32 values).
 * @example attentionMaps(model, [3, 1, 4, 1, 5]).weights // Float32Array of H·5·5
 */
export function attentionMaps(model: TestModel, ids: readonly number[]): AttentionMaps {
  return noGrad(() =>
    tidy(() => {
      const x = Tensor.fromArray(Int32Array.from(ids), [1, ids.length], 'int32'); // [1, T]
      const h = model.embed.forward(x); //                                         [1, T, C]
      return model.config.attnType === 'standard'
        ? standardMaps(model.attn as StandardAttention, h)
        : tripleMaps(model.attn as TripleProductAttention, h);
    }),
  );
}

function standardMaps(a: StandardAttention, x: Tensor): AttentionMaps {
  const [, T, C] = x.shape; //                                   x: [1, T, C]
  const [qf, kf, vf] = a.qkv.forward(x).split(C, 2); //          [1, T, C] each
  const q = a.rope.forward(splitHeads(qf, a.nHead)); //          [1, H, T, D]
  const k = a.rope.forward(splitHeads(kf, a.nHead)); //          [1, H, T, D]
  const v = splitHeads(vf, a.nHead); //                          [1, H, T, D]
  const attn = causalSoftmax(q.matmul(k.mT), a.scale); //         [1, H, T, T]  softmax_j≤i(q_i·k_j / √D)
  const output = a.o.forward(mergeHeads(attn.matmul(v))); //     [1, T, C]
  return { attnType: 'standard', heads: a.nHead, T, weights: Float32Array.from(attn.data()), output: output.detach().clone() };
}

function tripleMaps(a: TripleProductAttention, x: Tensor): AttentionMaps {
  const T = x.shape[1];
  const H = a.nHead;
  const q = a.rope.forward(splitHeads(a.W_q.forward(x), H)); //   [1, H, T, D]
  const k = a.rope.forward(splitHeads(a.W_k.forward(x), H)); //   [1, H, T, D]
  const r = a.rope.forward(splitHeads(a.W_r.forward(x), H)); //   [1, H, T, D]
  const v = splitHeads(a.W_v.forward(x), H); //                   [1, H, T, D]
  const qq = q.mul(q).sum(-1, true); //                           [1, H, T, 1]
  const rr = r.mul(r).sum(-1, true); //                           [1, H, T, 1]
  const rq = r.mul(q).sum(-1, true); //                           [1, H, T, 1]
  const kk = k.mul(k).sum(-1, true).mT; //                        [1, H, 1, T]
  const qk = q.matmul(k.mT); //                                   [1, H, T, T]
  const rk = r.matmul(k.mT); //                                   [1, H, T, T]
  const gramDet = gramDeterminant(qq, kk, rr, qk, rk, rq); //     [1, H, T, T]  det G
  const attn = causalSoftmax(gramDet, -a.scale); //                [1, H, T, T]  softmax_j≤i(−det G / D^1.5)
  const output = a.W_o.forward(mergeHeads(attn.matmul(v))); //    [1, T, C]
  return {
    attnType: 'triple',
    heads: H,
    T,
    weights: Float32Array.from(attn.data()),
    gramScore: Float32Array.from(gramDet.neg().maskedFill(causalMask(T), -Infinity).data()),
    output: output.detach().clone(),
  };
}

/**
 * The query position's "source" in the copy task: target t is data[t + 1], which equals
 * data[t + 1 − half] once t ≥ half − 1; a one-layer model copies by reading key t + 1 − half.
 * @example copySource(40, 64) // 9
 */
export const copySource = (t: number, L: number): number | null => (t >= L / 2 - 1 ? t + 1 - L / 2 : null);

/**
 * The weight the best head puts on the copy source, averaged over the copied half: near 1 once a
 * model has learned the induction pattern, about 1/position at the start.
 * @example inductionScore(maps, 32) // 0.97
 */
export function inductionScore(maps: AttentionMaps, L: number): number {
  const { T, heads, weights } = maps;
  let total = 0;
  let n = 0;
  for (let t = 0; t < T; t++) {
    const j = copySource(t, L);
    if (j === null) continue;
    let best = 0;
    for (let h = 0; h < heads; h++) best = Math.max(best, weights[(h * T + t) * T + j]);
    total += best;
    n++;
  }
  return n === 0 ? 0 : total / n;
}
