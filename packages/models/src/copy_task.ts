// The copy task (induction): a random first half, then the same tokens again. Only the copied half
// is predictable, so we measure accuracy there and compare the loss with the floor the random half sets.
import { type Generator, Tensor, WedgeError, fmtShape } from '@wedge/core';

function checkPositiveInt(what: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw new WedgeError(`generateCopyBatch: ${what} must be an integer ≥ ${min}, got ${value}`);
  }
}

/**
 * The seed's rounding: an odd `seqLen` grows by one so that the two halves are equal.
 * @example evenSeqLen(63) // 64
 */
export const evenSeqLen = (seqLen: number): number => (seqLen % 2 !== 0 ? seqLen + 1 : seqLen);

/**
 * A batch of the copy task, as the seed makes it: data [B, L] (L = seqLen rounded up to even) with
 * data[:, half:] = data[:, :half], then inputs = data[:, :-1] and targets = data[:, 1:], both
 * int32 [B, L − 1]. Tokens are uniform in [0, vocabSize), drawn row-major from `generator`.
 * @example const [inputs, targets] = generateCopyBatch(32, 64, 16, new Generator(0)); // [32, 63] each
 */
export function generateCopyBatch(batchSize: number, seqLen: number, vocabSize: number, generator: Generator): [Tensor, Tensor] {
  checkPositiveInt('batchSize', batchSize);
  checkPositiveInt('seqLen', seqLen, 2);
  checkPositiveInt('vocabSize', vocabSize);
  const L = evenSeqLen(seqLen);
  const half = L / 2;
  const inputs = new Int32Array(batchSize * (L - 1)); //  [B, L-1]
  const targets = new Int32Array(batchSize * (L - 1)); // [B, L-1]
  const row = new Int32Array(L);
  for (let b = 0; b < batchSize; b++) {
    // the seed draws all of [B, L] and then overwrites the second half; drawing the same count
    // keeps the generator's stream identical whichever way the batch is built
    for (let j = 0; j < L; j++) row[j] = generator.nextInt(0, vocabSize);
    row.copyWithin(half, 0, half);
    inputs.set(row.subarray(0, L - 1), b * (L - 1));
    targets.set(row.subarray(1, L), b * (L - 1));
  }
  return [Tensor.fromArray(inputs, [batchSize, L - 1], 'int32'), Tensor.fromArray(targets, [batchSize, L - 1], 'int32')];
}

/**
 * First target position (in [0, L − 1)) that lies in the copied half: target t is data[t + 1], and
 * the copy starts at data[half], so t ≥ half − 1. These `half` positions are the predictable ones.
 * @example copyStart(64) // 31: targets 31..62 are copies
 */
export const copyStart = (seqLen: number): number => evenSeqLen(seqLen) / 2 - 1;

/**
 * The lowest mean cross-entropy any model can reach: the half − 1 targets of the random half cost
 * ln V each at best, the copied ones 0, averaged over all L − 1 positions.
 * @example lossFloor(64, 16) // (31 / 63) · ln 16 ≈ 1.364
 */
export function lossFloor(seqLen: number, vocabSize: number): number {
  const L = evenSeqLen(seqLen);
  return ((L / 2 - 1) / (L - 1)) * Math.log(vocabSize);
}

/**
 * Argmax accuracy on the copied half only: the fraction of positions t ≥ copyStart whose
 * highest logit is the target. `logits` [B, T, V], `targets` [B, T] (int32), T = L − 1.
 * @example copyAccuracy(model.forward(inputs), targets) // 1 once the model copies perfectly
 */
export function copyAccuracy(logits: Tensor, targets: Tensor): number {
  const [B, T, V] = logits.shape;
  if (logits.ndim !== 3 || targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
    throw new WedgeError(`copyAccuracy: logits ${fmtShape(logits.shape)} must be [B, T, V] with targets [B, T], got targets ${fmtShape(targets.shape)}`);
  }
  const start = copyStart(T + 1);
  const z = logits.data(); // [B, T, V] row-major
  const y = targets.data(); // [B, T]
  let correct = 0;
  for (let b = 0; b < B; b++) {
    for (let t = start; t < T; t++) {
      const base = (b * T + t) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (z[base + v] > z[base + best]) best = v;
      if (best === y[b * T + t]) correct++;
    }
  }
  return correct / (B * (T - start));
}
