// trainComparison(): the experiment the seed calls but never defines. One TestModel per attention
// type, trained with Adam on fresh copy-task batches, evaluated on one fixed held-out set.
import { Adam, Generator, type Tensor, crossEntropy, noGrad, tidy, WedgeError } from '@wedge/core';
import { copyAccuracy, evenSeqLen, generateCopyBatch, lossFloor } from './copy_task.ts';
import { ATTN_TYPES, type AttnType, TestModel } from './test_model.ts';

export interface TrainConfig {
  /** Which models to train, in this order. */
  attnTypes: AttnType[];
  /** Optimizer steps per model. */
  steps: number;
  batchSize: number;
  /** Length of a copy sequence (rounded up to even); the model sees seqLen − 1 tokens. */
  seqLen: number;
  vocab: number;
  dModel: number;
  nHead: number;
  /** Adam's learning rate (betas 0.9, 0.999, eps 1e-8: PyTorch's defaults). */
  lr: number;
  /** Seeds the weights (Generator(seed)), the training batches (seed + 1) and the eval set (seed + 2). */
  seed: number;
  /** Evaluate after every this many steps (and before the first, and after the last). */
  evalEvery: number;
  /** Sequences in the held-out eval set. */
  evalSize: number;
  /** RoPE's table length; defaults to the (even) seqLen. */
  maxLen?: number;
  /** Start from these weights instead of a seeded init (a state dict per attention type). */
  init?: Partial<Record<AttnType, Record<string, Tensor>>>;
}

/** The experiment's defaults (the seed's config; PyTorch copies perfectly by ~200/~400 steps). */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  attnTypes: ['standard', 'triple'],
  steps: 250,
  batchSize: 32,
  seqLen: 64,
  vocab: 16,
  dModel: 64,
  nHead: 4,
  lr: 1e-3,
  seed: 0,
  evalEvery: 25,
  evalSize: 128,
};

/** One evaluation. */
export interface EvalPoint {
  step: number;
  /** Mean training loss over the steps since the previous evaluation (null before training). */
  trainLoss: number | null;
  /** Mean cross-entropy on the held-out set, all positions. */
  evalLoss: number;
  /** Argmax accuracy on the held-out set's copied half (see copyAccuracy). */
  copyAccuracy: number;
  /** Wall time since training of this model began, in ms. */
  elapsedMs: number;
}

export interface ModelResult {
  attnType: AttnType;
  parameters: number;
  history: EvalPoint[];
  /** Training loss of every step. */
  trainLosses: number[];
  /** Per-step wall time (forward, backward, Adam), in ms: mean and median over all steps. */
  stepMs: { mean: number; median: number };
  /** The first evaluated step with copy accuracy ≥ 99 % (null if none). */
  stepsTo99: number | null;
  final: EvalPoint;
  model: TestModel;
}

export interface ComparisonResult {
  config: Omit<TrainConfig, 'init'> & { maxLen: number };
  /** The lowest mean loss reachable: (half − 1)/(L − 1) · ln V. */
  lossFloor: number;
  /** Copy accuracy of guessing: 1/V. */
  chance: number;
  models: ModelResult[];
}

export interface StepInfo {
  attnType: AttnType;
  step: number;
  steps: number;
  loss: number;
  stepMs: number;
  /** The latest evaluation of this model. */
  lastEval: EvalPoint;
}

export interface TrainCallbacks {
  onModelStart?(attnType: AttnType, model: TestModel): void;
  onStep?(info: StepInfo): void;
  onEval?(attnType: AttnType, point: EvalPoint): void;
  onModelEnd?(result: ModelResult): void;
}

/**
 * Check a config, naming the first bad field and its value.
 * @example validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, steps: 0 }) // throws: steps must be a positive integer, got 0
 */
export function validateTrainConfig(c: TrainConfig): void {
  const positiveInts: (keyof TrainConfig)[] = ['steps', 'batchSize', 'vocab', 'dModel', 'nHead', 'evalEvery', 'evalSize'];
  for (const k of positiveInts) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new WedgeError(`trainComparison: ${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(c.seqLen) || c.seqLen < 2) throw new WedgeError(`trainComparison: seqLen must be an integer ≥ 2, got ${c.seqLen}`);
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) throw new WedgeError(`trainComparison: lr must be a positive number, got ${c.lr}`);
  if (!Number.isSafeInteger(c.seed)) throw new WedgeError(`trainComparison: seed must be an integer, got ${c.seed}`);
  if (c.attnTypes.length === 0 || c.attnTypes.some((a) => !ATTN_TYPES.includes(a))) {
    throw new WedgeError(`trainComparison: attnTypes must name 'standard' and/or 'triple', got [${c.attnTypes.join(', ')}]`);
  }
  if (c.dModel % c.nHead !== 0 || (c.dModel / c.nHead) % 2 !== 0) {
    throw new WedgeError(`trainComparison: dModel (${c.dModel}) must be nHead (${c.nHead}) times an even head size`);
  }
  const L = evenSeqLen(c.seqLen);
  if (c.maxLen !== undefined && c.maxLen < L - 1) {
    throw new WedgeError(`trainComparison: maxLen ${c.maxLen} is shorter than the model's input (${L - 1} tokens)`);
  }
}

/**
 * A fixed held-out set of the copy task: `size` sequences drawn from Generator(seed), in batches
 * of at most `batchSize` (so that evaluation memory stays that of a training step).
 * @example const evalSet = makeEvalSet(128, 32, 64, 16, 2); // 4 batches of [32, 63]
 */
export function makeEvalSet(size: number, batchSize: number, seqLen: number, vocab: number, seed: number): [Tensor, Tensor][] {
  const g = new Generator(seed);
  const out: [Tensor, Tensor][] = [];
  for (let done = 0; done < size; done += batchSize) out.push(generateCopyBatch(Math.min(batchSize, size - done), seqLen, vocab, g));
  return out;
}

/**
 * Mean eval loss and copy accuracy of `model` on `evalSet` (no graph).
 * @example evaluate(model, makeEvalSet(128, 32, 64, 16, 2)) // { loss: 1.43, copyAccuracy: 1 }
 */
export function evaluate(model: TestModel, evalSet: readonly [Tensor, Tensor][]): { loss: number; copyAccuracy: number } {
  let loss = 0;
  let acc = 0;
  let n = 0;
  noGrad(() =>
    tidy(() => {
      for (const [inputs, targets] of evalSet) {
        const B = inputs.shape[0];
        const logits = model.forward(inputs); // [B, T, V]
        loss += B * crossEntropy(logits.reshape([-1, model.config.vocab]), targets.reshape([-1])).item();
        acc += B * copyAccuracy(logits, targets);
        n += B;
      }
    }),
  );
  return { loss: loss / n, copyAccuracy: acc / n };
}

/**
 * One training step: mean cross-entropy over every position of the batch (the random half too:
 * its gradient is noise around the uniform prediction, as in the seed's setup), backward, Adam.
 * Returns the loss before the update.
 * @example const loss = trainStep(model, opt, inputs, targets);
 */
export function trainStep(model: TestModel, opt: Adam, inputs: Tensor, targets: Tensor): number {
  return tidy(() => {
    opt.zeroGrad();
    const logits = model.forward(inputs); //                                           [B, T, V]
    const loss = crossEntropy(logits.reshape([-1, model.config.vocab]), targets.reshape([-1])); // []
    loss.backward();
    opt.step();
    return loss.item();
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Train one model per attention type on the copy task and compare them. Both start from the same
 * seed and see the same batches in the same order; each is evaluated on the same held-out set at
 * step 0, every `evalEvery` steps and at the end.
 * @example
 * const result = trainComparison({ ...DEFAULT_TRAIN_CONFIG, steps: 100 }, {
 *   onEval: (attn, p) => console.log(attn, p.step, p.copyAccuracy),
 * });
 * result.models.map((m) => m.stepsTo99);
 */
export function trainComparison(config: TrainConfig, callbacks: TrainCallbacks = {}): ComparisonResult {
  validateTrainConfig(config);
  const { init: _init, ...rest } = config;
  const L = evenSeqLen(config.seqLen);
  const maxLen = config.maxLen ?? L;
  const evalSet = makeEvalSet(config.evalSize, config.batchSize, config.seqLen, config.vocab, config.seed + 2);
  const models = config.attnTypes.map((attnType) => trainOne(attnType, config, maxLen, evalSet, callbacks));
  return {
    config: { ...rest, maxLen },
    lossFloor: lossFloor(config.seqLen, config.vocab),
    chance: 1 / config.vocab,
    models,
  };
}

function trainOne(
  attnType: AttnType,
  c: TrainConfig,
  maxLen: number,
  evalSet: readonly [Tensor, Tensor][],
  callbacks: TrainCallbacks,
): ModelResult {
  const model = new TestModel({ vocab: c.vocab, dModel: c.dModel, nHead: c.nHead, maxLen, attnType, generator: new Generator(c.seed) });
  const init = c.init?.[attnType];
  if (init) model.loadStateDict(init);
  const opt = new Adam(model.parameters(), { lr: c.lr });
  const data = new Generator(c.seed + 1); // the same batches for every model
  callbacks.onModelStart?.(attnType, model);

  const history: EvalPoint[] = [];
  const trainLosses: number[] = [];
  const stepTimes: number[] = [];
  const t0 = performance.now();
  const record = (step: number): EvalPoint => {
    const since = trainLosses.slice(history.length === 0 ? 0 : history[history.length - 1].step);
    const { loss, copyAccuracy: acc } = evaluate(model, evalSet);
    const point: EvalPoint = {
      step,
      trainLoss: since.length > 0 ? since.reduce((a, b) => a + b, 0) / since.length : null,
      evalLoss: loss,
      copyAccuracy: acc,
      elapsedMs: performance.now() - t0,
    };
    history.push(point);
    callbacks.onEval?.(attnType, point);
    return point;
  };

  let last = record(0);
  for (let step = 1; step <= c.steps; step++) {
    const [inputs, targets] = generateCopyBatch(c.batchSize, c.seqLen, c.vocab, data);
    const s0 = performance.now();
    const loss = trainStep(model, opt, inputs, targets);
    const ms = performance.now() - s0;
    trainLosses.push(loss);
    stepTimes.push(ms);
    if (!Number.isFinite(loss)) throw new WedgeError(`trainComparison: ${attnType} loss became ${loss} at step ${step}`);
    if (step % c.evalEvery === 0 || step === c.steps) last = record(step);
    callbacks.onStep?.({ attnType, step, steps: c.steps, loss, stepMs: ms, lastEval: last });
  }

  const result: ModelResult = {
    attnType,
    parameters: model.parameters().reduce((n, p) => n + p.size, 0),
    history,
    trainLosses,
    stepMs: { mean: stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length, median: median(stepTimes) },
    stepsTo99: history.find((p) => p.copyAccuracy >= 0.99)?.step ?? null,
    final: history[history.length - 1],
    model,
  };
  callbacks.onModelEnd?.(result);
  return result;
}
