// Linear and Embedding, with PyTorch's weight layouts and default initialisations.
import type { DType } from '../dtype.ts';
import { WedgeError, describeValue, fmtShape } from '../errors.ts';
import { checkShape } from '../shape.ts';
import type { Generator } from '../random.ts';
import type { Tensor } from '../tensor.ts';
import { firstOutOfRange } from '../ops/indexing.ts';
import { biasUniform, kaimingUniformA5, standardNormal } from './init.ts';
import { Module, Parameter } from './module.ts';

/**
 * y = x Wᵀ + b, with W [out, in] (PyTorch's layout) and x [..., in] → y [..., out].
 * Init: W and b ~ U(−1/√in, 1/√in), as torch.nn.Linear (kaiming_uniform with a = √5).
 * @example const proj = new Linear(64, 16, { bias: false }); proj.forward(h) // [B, T, 16]
 */
export class Linear extends Module {
  weight: Parameter; // [out, in]
  bias: Parameter | null; // [out]

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; generator?: Generator; dtype?: DType } = {},
  ) {
    super();
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    checkShape('Linear', [outFeatures, inFeatures], opts.dtype ?? 'float32'); // the weight fits in one tensor
    const init = { generator: opts.generator, dtype: opts.dtype };
    // NOTE: weight first, then bias: the same draw order as PyTorch's reset_parameters.
    this.weight = new Parameter(kaimingUniformA5([outFeatures, inFeatures], init));
    this.bias = (opts.bias ?? true) ? new Parameter(biasUniform([outFeatures], inFeatures, init)) : null;
  }

  forward(x: Tensor): Tensor {
    const last = x.shape[x.ndim - 1];
    if (x.ndim === 0 || last !== this.inFeatures) {
      throw new WedgeError(
        `Linear: input ${fmtShape(x.shape)} must end in inFeatures = ${this.inFeatures} (weight ${fmtShape(this.weight.shape)})`,
      );
    }
    // NOTE: batch dims fold into one [N, in] @ [in, out] product, as torch.matmul does for a 2-D
    // right operand: one gemm forward, and one (not B) for the weight's gradient.
    const lead = x.shape.slice(0, -1);
    const x2 = x.ndim > 2 ? x.reshape([-1, this.inFeatures]) : x; // [N, in]
    const y2 = x2.matmul(this.weight.mT); // [N, in] @ [in, out] → [N, out]
    const y = x.ndim > 2 ? y2.reshape([...lead, this.outFeatures]) : y2; // [..., out]
    return this.bias === null ? y : y.add(this.bias);
  }
}

/**
 * A lookup table: ids of any shape (int32) → [...ids.shape, dim]. Init: N(0, 1), as torch.nn.Embedding.
 * An id outside [0, num) is an error naming the id, its position and the range.
 * @example new Embedding(16, 64).forward(tokens) // [B, T] → [B, T, 64]
 */
export class Embedding extends Module {
  weight: Parameter; // [num, dim]

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: { generator?: Generator; dtype?: DType } = {},
  ) {
    super();
    checkSize('Embedding', 'numEmbeddings', numEmbeddings);
    checkSize('Embedding', 'embeddingDim', embeddingDim);
    checkShape('Embedding', [numEmbeddings, embeddingDim], opts.dtype ?? 'float32'); // the weight fits in one tensor
    this.weight = new Parameter(standardNormal([numEmbeddings, embeddingDim], opts));
  }

  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32') {
      throw new WedgeError(`Embedding: ids must be int32, got ${ids.dtype} ${fmtShape(ids.shape)}`);
    }
    checkIds(ids, this.numEmbeddings);
    const rows = this.weight.indexSelect(0, ids.flatten()); // [N, dim]
    return rows.reshape([...ids.shape, this.embeddingDim]);
  }
}

function checkSize(layer: string, what: string, n: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new WedgeError(`${layer}: ${what} must be a non-negative integer, got ${describeValue(n)}`);
  }
}

/** Throw naming the first id outside [0, num), with its position in `ids`. */
function checkIds(ids: Tensor, num: number): void {
  const bad = firstOutOfRange(ids, num);
  if (bad) {
    throw new WedgeError(
      `Embedding: id ${bad.value} at position ${fmtShape(bad.position)} of ids ${fmtShape(ids.shape)} is out of range [0, ${num})`,
    );
  }
}
