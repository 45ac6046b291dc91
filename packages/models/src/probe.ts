// The loud-key probe: the seed's resilience table asked of a trained model. One earlier position's
// key (after RoPE, in every head) gets a large component in a fixed, seeded direction; we measure
// how much attention that position then captures from queries that should look elsewhere, and
// what it does to copy accuracy. docs/findings.md defines it; scripts/probe_loud.py is PyTorch's.
//
//   k'_{b,h,p_b} = k_{b,h,p_b} + m · s_h · u_h      u_h: unit vector [D] from Generator(seed)
//                                                   s_h: mean ‖k_{b,h,t}‖ over the probe set
//   mass(m) = mean over b, h and copy queries t ≥ half − 1 with t ≠ p_b + half − 1 of attn'[b,h,t,p_b]
import { Generator, Tensor, WedgeError, cat, noGrad, tidy } from '@wedge/core';
import { StandardAttention, causalSoftmaxComposite, mergeHeads, splitHeads } from './attention.ts';
import { copyAccuracy, copyStart } from './copy_task.ts';
import { RESILIENCE_MAGNITUDES } from './resilience.ts';
import type { TestModel } from './test_model.ts';
import { TripleProductAttention, gramDeterminantComposite, tripleAttentionWeightsComposite } from './triple_attention.ts';

/**
 * What the probe perturbs: per sequence the loud position, per head the loud direction and the key scale.
 * @example
 * const setup: LoudProbeSetup = loudProbeSetup(model, inputs, 0);
 */
export interface LoudProbeSetup {
  /** Loud position p_b of each sequence, uniform in the first half [0, half). */
  positions: number[];
  /** u_h: one unit vector per head, [H][D]. */
  directions: number[][];
  /** s_h: the mean key norm per head on the probe set (m = 1 adds a component of a typical key's size). */
  keyScale: number[];
}

/**
 * One row of the probe: at magnitude m (0: unperturbed), the loud position's stolen attention and the copy accuracy.
 * @example
 * for (const row of probeLoudKeys(model, evalSet, { seed: 3 }).rows) console.log(row.magnitude, row.attentionMass);
 */
export interface LoudProbeRow {
  magnitude: number;
  /** Mean attention weight on the loud position from copy queries whose source is elsewhere (see file head). */
  attentionMass: number;
  /** Copy accuracy (copied half) with the loud key in place. */
  copyAccuracy: number;
}

/** The probe's magnitudes: the seed's resilience table's. @example PROBE_MAGNITUDES // [1, 5, 10, 50, 100] */
export const PROBE_MAGNITUDES: readonly number[] = RESILIENCE_MAGNITUDES;

/** Keys after RoPE, [B, H, T, D], of either attention (no graph). */
function ropedKeys(model: TestModel, h: Tensor): Tensor {
  const a = model.attn;
  const [, , C] = h.shape;
  if (a instanceof StandardAttention) return a.rope.forward(splitHeads(a.qkv.forward(h).split(C, 2)[1], a.nHead));
  return a.rope.forward(splitHeads(a.W_k.forward(h), a.nHead));
}

/**
 * The model's forward pass with `loud` [B, H, T, D] added to the keys after RoPE; returns the
 * logits [B, T, V] and the attention weights [B, H, T, T]. With a zero `loud` it is model.forward up to
 * float rounding: it runs the seed's composite lines (det G term by term, scale → mask → softmax as
 * separate ops) so that it rounds as PyTorch does, where model.forward runs the fused ops.
 * @example const { logits, attn } = forwardWithKeyOffset(model, inputs, zeros([B, H, T, D]));
 */
export function forwardWithKeyOffset(model: TestModel, inputs: Tensor, loud: Tensor): { logits: Tensor; attn: Tensor } {
  const h = model.embed.forward(inputs); //                                   [B, T, C]
  const [, , C] = h.shape;
  const a = model.attn;
  let attn: Tensor;
  let v: Tensor;
  if (a instanceof StandardAttention) {
    const [qf, kf, vf] = a.qkv.forward(h).split(C, 2); //                     [B, T, C] each
    const q = a.rope.forward(splitHeads(qf, a.nHead)); //                      [B, H, T, D]
    const k = a.rope.forward(splitHeads(kf, a.nHead)).add(loud); //            [B, H, T, D]  the loud key
    v = splitHeads(vf, a.nHead); //                                            [B, H, T, D]
    attn = causalSoftmaxComposite(q.matmul(k.mT), a.scale); //                 [B, H, T, T]  scale, mask, softmax
  } else if (a instanceof TripleProductAttention) {
    const H = a.nHead;
    const q = a.rope.forward(splitHeads(a.W_q.forward(h), H)); //             [B, H, T, D]
    const k = a.rope.forward(splitHeads(a.W_k.forward(h), H)).add(loud); //   [B, H, T, D]  the loud key
    const r = a.rope.forward(splitHeads(a.W_r.forward(h), H)); //             [B, H, T, D]
    v = splitHeads(a.W_v.forward(h), H); //                                    [B, H, T, D]
    const qq = q.mul(q).sum(-1, true); //                                      [B, H, T, 1]
    const rr = r.mul(r).sum(-1, true); //                                      [B, H, T, 1]
    const rq = r.mul(q).sum(-1, true); //                                      [B, H, T, 1]
    const kk = k.mul(k).sum(-1, true).mT; //                                   [B, H, 1, T]
    const qk = q.matmul(k.mT); //                                              [B, H, T, T]
    const rk = r.matmul(k.mT); //                                              [B, H, T, T]
    const det = gramDeterminantComposite(qq, kk, rr, qk, rk, rq); //           [B, H, T, T]
    attn = tripleAttentionWeightsComposite(det, a.scale); //                   [B, H, T, T]  −det G · scale, mask, softmax
  } else {
    throw new WedgeError('forwardWithKeyOffset: unknown attention module');
  }
  const o = a instanceof StandardAttention ? a.o : a.W_o;
  const y = o.forward(mergeHeads(attn.matmul(v))); //                          [B, T, C]
  return { logits: model.unembed.forward(y), attn }; //                        [B, T, V], [B, H, T, T]
}

/**
 * The probe's fixed choices for a probe set of `inputs` ([N, T]): loud positions and unit directions
 * drawn from Generator(seed) (positions first, then H·D standard normals), and the mean key
 * norm per head of this model on these inputs.
 * @example const setup = loudProbeSetup(model, inputs, 3);
 */
export function loudProbeSetup(model: TestModel, inputs: Tensor, seed: number): LoudProbeSetup {
  const [N, T] = inputs.shape;
  const half = (T + 1) / 2;
  const H = model.config.nHead;
  const D = model.config.dModel / H;
  const g = new Generator(seed);
  const positions = Array.from({ length: N }, () => g.nextInt(0, half));
  const directions = Array.from({ length: H }, () => {
    const u = Array.from({ length: D }, () => g.nextNormal());
    const norm = Math.hypot(...u);
    return u.map((x) => x / norm);
  });
  const keyScale = noGrad(() =>
    tidy(() => {
      const k = ropedKeys(model, model.embed.forward(inputs)); //              [N, H, T, D]
      const norms = k.mul(k).sum(-1).sqrt(); //                                [N, H, T]
      const perHead = norms.sum(2).sum(0).data(); //                           [H]
      return Array.from(perHead, (s) => s / (N * T));
    }),
  );
  return { positions, directions, keyScale };
}

/** The loud offsets [B, H, T, D] for rows `from … from + B − 1` of the probe set: m·s_h·u_h at p_b, 0 elsewhere. */
function loudOffsets(setup: LoudProbeSetup, from: number, B: number, T: number, m: number): Tensor {
  const H = setup.directions.length;
  const D = setup.directions[0].length;
  const out = new Float32Array(B * H * T * D);
  for (let b = 0; b < B; b++) {
    const p = setup.positions[from + b];
    for (let h = 0; h < H; h++) {
      const base = ((b * H + h) * T + p) * D;
      for (let d = 0; d < D; d++) out[base + d] = m * setup.keyScale[h] * setup.directions[h][d];
    }
  }
  return Tensor.fromArray(out, [B, H, T, D], 'float32');
}

/**
 * Run the loud-key probe on a trained model: for m = 0 (unperturbed) and each magnitude, the mean
 * attention mass the loud position captures from copy queries that should attend elsewhere, and
 * the copy accuracy. `batches` is the held-out set (inputs [B, T], targets [B, T]).
 * @example probeLoudKeys(model, makeEvalSet(128, 32, 64, 16, 2), { seed: 3 }) // [{ magnitude: 0, … }, { magnitude: 1, … }, …]
 */
export function probeLoudKeys(
  model: TestModel,
  batches: readonly [Tensor, Tensor][],
  opts: { seed: number; magnitudes?: readonly number[]; setup?: LoudProbeSetup },
): { rows: LoudProbeRow[]; setup: LoudProbeSetup } {
  const magnitudes = [0, ...(opts.magnitudes ?? PROBE_MAGNITUDES)];
  const setup = opts.setup ?? loudProbeSetup(model, cat(batches.map(([x]) => x)), opts.seed); // the inputs, [N, T]
  const rows = magnitudes.map((m): LoudProbeRow => {
    let mass = 0;
    let queries = 0;
    let correct = 0;
    let copied = 0;
    let from = 0;
    noGrad(() =>
      tidy(() => {
        for (const [inputs, targets] of batches) {
          const [B, T] = inputs.shape;
          const H = setup.directions.length;
          const { logits, attn } = forwardWithKeyOffset(model, inputs, loudOffsets(setup, from, B, T, m));
          const start = copyStart(T + 1); // first copy query: half − 1
          const w = attn.data(); //          [B, H, T, T]
          for (let b = 0; b < B; b++) {
            const p = setup.positions[from + b];
            const source = p + start; //     the query that copies from p (and should attend to it)
            for (let h = 0; h < H; h++) {
              for (let t = start; t < T; t++) {
                if (t === source) continue;
                mass += w[((b * H + h) * T + t) * T + p];
                queries++;
              }
            }
          }
          correct += Math.round(copyAccuracy(logits, targets) * B * (T - start));
          copied += B * (T - start);
          from += B;
        }
      }),
    );
    return { magnitude: m, attentionMass: mass / queries, copyAccuracy: correct / copied };
  });
  return { rows, setup };
}
