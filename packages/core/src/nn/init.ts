// PyTorch's default initialisations, drawn from Wedge's seeded Generator. The distributions and
// bounds are PyTorch's; the random streams are not (weights move between the two by checkpoint).
import type { DType } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { defaultGenerator, normal, uniform, type Generator } from '../random.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Options of the initialisers: the `generator` to draw from and the `dtype`.
 * @example
 * kaimingUniformA5([4, 8], { generator: new Generator(0) })
 */
export interface InitOptions {
  generator?: Generator;
  dtype?: DType;
}

/**
 * fan_in of a weight [out, in, ...]: in × (product of the remaining dims), as torch.nn.init computes it.
 * @example
 * fanIn([16, 8]) // 8: a Linear weight [out, in]
 */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2) {
    throw new WedgeError(`fanIn: needs a weight with at least 2 dims, got ${fmtShape(shape)}`);
  }
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * kaiming_uniform_(w, a=√5), PyTorch's default for Linear weights: gain = √(2 / (1 + a²)) = √(1/3),
 * bound = gain · √(3 / fan_in) = 1/√fan_in, so w ~ U(−1/√fan_in, 1/√fan_in).
 * @example kaimingUniformA5([out, inp], { generator: g })
 */
export function kaimingUniformA5(shape: readonly number[], opts: InitOptions = {}): Tensor {
  const fan = fanIn(shape);
  const gain = Math.sqrt(2 / (1 + 5)); // a = √5
  const bound = fan > 0 ? gain * Math.sqrt(3 / fan) : 0;
  return uniform(shape, -bound, bound, { generator: opts.generator ?? defaultGenerator, dtype: opts.dtype });
}

/**
 * U(−1/√fan_in, 1/√fan_in): PyTorch's Linear bias initialisation (0 when fan_in is 0).
 * @example
 * biasUniform([4], 8, { generator: g }) // U(±1/√8), as nn.Linear's bias
 */
export function biasUniform(shape: readonly number[], fanInOfWeight: number, opts: InitOptions = {}): Tensor {
  const bound = fanInOfWeight > 0 ? 1 / Math.sqrt(fanInOfWeight) : 0;
  return uniform(shape, -bound, bound, { generator: opts.generator ?? defaultGenerator, dtype: opts.dtype });
}

/**
 * N(0, 1): PyTorch's Embedding initialisation.
 * @example
 * standardNormal([16, 32], { generator: g }) // as nn.Embedding's weight
 */
export function standardNormal(shape: readonly number[], opts: InitOptions = {}): Tensor {
  return normal(shape, 0, 1, { generator: opts.generator ?? defaultGenerator, dtype: opts.dtype });
}
