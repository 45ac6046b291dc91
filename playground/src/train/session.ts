// One training run of both models, side by side: the CLI's experiment (trainComparison) cut into
// single steps so that a worker can pause between them. Same seeds, same batches, same eval set,
// so a page run and a CLI run with the same config give the same numbers. No DOM: tested in Node.
import { Adam, Generator, type Tensor, noGrad } from '@wedge/core';
import {
  ATTN_TYPES, type AttnType, type LoudProbeRow, TestModel, evaluate, generateCopyBatch, lossFloor, makeEvalSet, probeLoudKeys, trainStep,
  evenSeqLen,
} from '@wedge/models';
import { attentionMaps, inductionScore } from '../inside/attention_maps.ts';
import { type PlaygroundConfig, modelShape, readCheckpoint, validatePlaygroundConfig } from './config.ts';
import type { EvalSnapshot, MapsSnapshot } from './protocol.ts';

export class TrainingSession {
  readonly models: Record<AttnType, TestModel>;
  readonly optimizers: Record<AttnType, Adam>;
  /** The fixed sequence whose attention the Look inside panel draws (the model's input, T tokens). */
  readonly sample: number[];
  /** Length of a copy sequence (even); the model sees L − 1 tokens. */
  readonly L: number;
  readonly lossFloor: number;
  step = 0;
  private readonly data: Generator;
  private readonly evalSet: [Tensor, Tensor][];

  /**
   * @param init checkpoint bytes per attention type to start from (see readCheckpoint)
   * @param maxLen RoPE's table length when a checkpoint sets it; else the even seq_len
   * @example const s = new TrainingSession(PLAYGROUND_DEFAULTS); s.trainStep(); s.evaluate();
   */
  constructor(
    readonly config: PlaygroundConfig,
    init: Partial<Record<AttnType, Uint8Array>> = {},
    maxLen?: number,
  ) {
    validatePlaygroundConfig(config, maxLen);
    const shape = modelShape(config, maxLen);
    const build = (attnType: AttnType): TestModel => {
      const model = new TestModel({ ...shape, attnType, generator: new Generator(config.seed) });
      const bytes = init[attnType];
      if (bytes) model.loadStateDict(readCheckpoint(bytes, `${attnType} checkpoint`).tensors);
      return model;
    };
    this.models = { standard: build('standard'), triple: build('triple') };
    this.optimizers = {
      standard: new Adam(this.models.standard.parameters(), { lr: config.lr }),
      triple: new Adam(this.models.triple.parameters(), { lr: config.lr }),
    };
    this.data = new Generator(config.seed + 1); // the CLI's batches
    this.evalSet = makeEvalSet(config.evalSize, config.batchSize, config.seqLen, config.vocab, config.seed + 2);
    this.L = evenSeqLen(config.seqLen);
    this.lossFloor = lossFloor(config.seqLen, config.vocab);
    const [inputs] = generateCopyBatch(1, config.seqLen, config.vocab, new Generator(config.seed + 3));
    this.sample = Array.from(inputs.data());
  }

  get done(): boolean {
    return this.step >= this.config.steps;
  }

  /** One Adam step of each model on the same fresh batch; the losses and each model's time in ms. */
  trainStep(): { loss: Record<AttnType, number>; ms: Record<AttnType, number> } {
    const [inputs, targets] = generateCopyBatch(this.config.batchSize, this.config.seqLen, this.config.vocab, this.data);
    const loss = {} as Record<AttnType, number>;
    const ms = {} as Record<AttnType, number>;
    for (const attnType of ATTN_TYPES) {
      const t0 = performance.now();
      loss[attnType] = trainStep(this.models[attnType], this.optimizers[attnType], inputs, targets);
      ms[attnType] = performance.now() - t0;
    }
    this.step++;
    return { loss, ms };
  }

  /** Held-out loss and copy accuracy of both models. */
  evaluate(): Record<AttnType, EvalSnapshot> {
    const out = {} as Record<AttnType, EvalSnapshot>;
    for (const attnType of ATTN_TYPES) {
      const { loss, copyAccuracy } = evaluate(this.models[attnType], this.evalSet);
      out[attnType] = { step: this.step, evalLoss: loss, copyAccuracy };
    }
    return out;
  }

  /** Attention maps of both models on the sample sequence. */
  maps(): Record<AttnType, MapsSnapshot> {
    const out = {} as Record<AttnType, MapsSnapshot>;
    noGrad(() => {
      for (const attnType of ATTN_TYPES) {
        const m = attentionMaps(this.models[attnType], this.sample);
        m.output.dispose();
        out[attnType] = { heads: m.heads, T: m.T, weights: m.weights, gramScore: m.gramScore, induction: inductionScore(m, this.L) };
      }
    });
    return out;
  }

  /**
   * The study's loud-key probe (probeLoudKeys) of both models on the held-out set: at each of the
   * seed's magnitudes, how much attention one planted loud key steals, and the copy accuracy left.
   */
  probe(): Record<AttnType, LoudProbeRow[]> {
    const out = {} as Record<AttnType, LoudProbeRow[]>;
    for (const attnType of ATTN_TYPES) out[attnType] = probeLoudKeys(this.models[attnType], this.evalSet, { seed: this.config.seed + 4 }).rows;
    return out;
  }

  parameters(): Record<AttnType, number> {
    const count = (m: TestModel): number => m.parameters().reduce((n, p) => n + p.size, 0);
    return { standard: count(this.models.standard), triple: count(this.models.triple) };
  }
}
