// The seed's TestModel: token embedding → one attention layer → unembedding, with no positional
// embedding (RoPE inside the attention is the only position signal). Its state dict has the seed's
// keys, so a checkpoint moves between Wedge and PyTorch in both directions.
import { type DType, Embedding, type Generator, Linear, Module, type Tensor, WedgeError, fmtShape } from '@wedge/core';
import { StandardAttention } from './attention.ts';
import { TripleProductAttention } from './triple_attention.ts';

/**
 * Which attention a TestModel uses: 'standard' softmax(QKᵀ/√d) or 'triple' (Gram-determinant).
 * @example
 * const attnType: AttnType = 'triple';
 */
export type AttnType = 'standard' | 'triple';
/**
 * Both attention types, in the order the comparison trains them.
 * @example
 * for (const attnType of ATTN_TYPES) new TestModel({ vocab: 16, dModel: 64, nHead: 4, maxLen: 64, attnType });
 */
export const ATTN_TYPES: readonly AttnType[] = ['standard', 'triple'];

/**
 * The one-layer model's sizes and attention type (the seed's TestModel arguments), plus the weights' generator and
 * dtype.
 * @example
 * new TestModel({ vocab: 16, dModel: 64, nHead: 4, maxLen: 64, attnType: 'standard', generator: new Generator(0) })
 */
export interface TestModelConfig {
  vocab: number;
  dModel: number;
  nHead: number;
  /** Rows of RoPE's tables: the longest sequence the model accepts. Part of the checkpoint's shapes. */
  maxLen: number;
  attnType: AttnType;
  /** Draws the initial weights (in field order: embed, attention, unembed). */
  generator?: Generator;
  dtype?: DType;
}

/**
 * embed [V, C] → attn → unembed [V, C]; ids [B, T] (int32) → logits [B, T, V].
 * State dict keys: 'embed.weight', 'attn.qkv.weight', 'attn.o.weight' (standard) or
 * 'attn.W_q.weight' … 'attn.W_o.weight' (triple), 'attn.rope.cos', 'attn.rope.sin', 'unembed.weight'.
 * @example
 * const model = new TestModel({ vocab: 16, dModel: 64, nHead: 4, maxLen: 64, attnType: 'triple' });
 * model.forward(inputs) // [32, 63] → [32, 63, 16]
 */
export class TestModel extends Module {
  readonly config: Readonly<Omit<TestModelConfig, 'generator'>>;
  embed: Embedding;
  attn: StandardAttention | TripleProductAttention;
  unembed: Linear;

  constructor(config: TestModelConfig) {
    super();
    const { vocab, dModel, nHead, maxLen, attnType, generator, dtype } = config;
    if (!Number.isInteger(vocab) || vocab < 1) throw new WedgeError(`TestModel: vocab must be a positive integer, got ${vocab}`);
    if (!ATTN_TYPES.includes(attnType)) {
      throw new WedgeError(`TestModel: attnType must be 'standard' or 'triple', got '${attnType}'`);
    }
    this.config = { vocab, dModel, nHead, maxLen, attnType, dtype: dtype ?? 'float32' };
    this.embed = new Embedding(vocab, dModel, { generator, dtype });
    this.attn =
      attnType === 'standard'
        ? new StandardAttention(dModel, nHead, maxLen, { generator, dtype })
        : new TripleProductAttention(dModel, nHead, maxLen, { generator, dtype });
    this.unembed = new Linear(dModel, vocab, { bias: false, generator, dtype });
  }

  forward(ids: Tensor): Tensor {
    if (ids.ndim !== 2) throw new WedgeError(`TestModel: ids must be [B, T] int32, got ${ids.dtype} ${fmtShape(ids.shape)}`);
    const h = this.embed.forward(ids); //   [B, T, C]
    const a = this.attn.forward(h); //      [B, T, C]
    return this.unembed.forward(a); //      [B, T, V]
  }
}
