// trainComparison(): the experiment the seed calls but never defines. One TestModel per attention
// type, trained with Adam on fresh copy-task batches, evaluated on one fixed held-out set.
import {
  Adam, Generator, type GeneratorState, Tensor, WedgeError, crossEntropy, noGrad, optimizerStateFromTensors, optimizerStateToTensors, tidy,
} from '@wedge/core';
import { copyAccuracy, evenSeqLen, generateCopyBatch, lossFloor } from './copy_task.ts';
import { ATTN_TYPES, type AttnType, TestModel } from './test_model.ts';

/**
 * Everything one comparison run depends on (model sizes, steps, batch, learning rate, evaluation, seed), as the
 * seed script's arguments.
 * @example
 * const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, steps: 100, lr: 3e-3 };
 */
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
  /** "Hub" tokens: the embeddings of tokens 0 … hubTokens − 1 start hubScale times larger (default 0: none). */
  hubTokens?: number;
  /** How much larger the hub tokens' initial embeddings are (default 1). */
  hubScale?: number;
}

/**
 * The experiment's defaults (the seed's config; PyTorch copies perfectly by ~200/~400 steps).
 * @example
 * trainComparison({ ...DEFAULT_TRAIN_CONFIG, steps: 100 })
 */
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

/**
 * One evaluation.
 * @example
 * trainComparison(config, { onEval: (attn, p: EvalPoint) => console.log(attn, p.step, p.evalLoss) })
 */
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

/**
 * One model's run: its config, loss curves, final evaluation and the trained model.
 * @example
 * const { standard } = trainComparison(config); standard.final.copyAccuracy
 */
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

/**
 * Both models' runs of trainComparison(), standard and triple, trained on the same batches.
 * @example
 * const result: ComparisonResult = trainComparison(config);
 */
export interface ComparisonResult {
  config: Omit<TrainConfig, 'init'> & { maxLen: number };
  /** The lowest mean loss reachable: (half − 1)/(L − 1) · ln V. */
  lossFloor: number;
  /** Copy accuracy of guessing: 1/V. */
  chance: number;
  models: ModelResult[];
}

/**
 * What onStep receives after each training step: the step, the model's attention type and the loss.
 * @example
 * trainComparison(config, { onStep: (info: StepInfo) => console.log(info.step, info.loss) })
 */
export interface StepInfo {
  attnType: AttnType;
  step: number;
  steps: number;
  loss: number;
  stepMs: number;
  /** The latest evaluation of this model. */
  lastEval: EvalPoint;
}

/**
 * Progress hooks of trainComparison(): onStep after every step, onEval at every evaluation.
 * @example
 * trainComparison(config, { onEval: (attn, p) => console.log(attn, p.step, p.copyAccuracy) })
 */
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
  const hubTokens = c.hubTokens ?? 0;
  if (!Number.isInteger(hubTokens) || hubTokens < 0 || hubTokens > c.vocab) {
    throw new WedgeError(`trainComparison: hubTokens must be an integer in [0, vocab = ${c.vocab}], got ${hubTokens}`);
  }
  if (c.hubScale !== undefined && !(Number.isFinite(c.hubScale) && c.hubScale > 0)) {
    throw new WedgeError(`trainComparison: hubScale must be a positive number, got ${c.hubScale}`);
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
 * A run stopped because a number stopped being finite: the loss of a step, the held-out loss,
 * or a weight. Names the model and the step.
 * @example try { trainComparison(config); } catch (e) { if (e instanceof DivergenceError) console.log(e.message); }
 */
export class DivergenceError extends WedgeError {
  constructor(
    readonly attnType: AttnType,
    readonly step: number,
    readonly what: string,
  ) {
    super(`${attnType} model diverged at step ${step}: ${what}`);
  }
}

/**
 * The first parameter with a non-finite value, as "'name' holds NaN" (null when all are finite).
 * @example
 * const bad = firstNonFiniteWeight(model); if (bad) throw new Error(`${bad} is not finite`);
 */
export function firstNonFiniteWeight(model: TestModel): string | null {
  for (const [name, p] of model.namedParameters()) {
    const d = p.data();
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return `weight '${name}' holds ${d[i]}`;
  }
  return null;
}

/**
 * Everything a training run needs to continue exactly where it stopped: the model, Adam's state,
 * the batch generator's state, the step counter and the history so far.
 * @example trainModel('triple', config, { checkpointEvery: 50, onCheckpoint: (c: TrainCheckpoint, step) => save(step, c.tensors, c.metadata) })
 */
export interface TrainCheckpoint {
  /** `model.<key>` (the state dict) and `optim.<key>` (Adam's moments) tensors. */
  tensors: Record<string, Tensor>;
  /** `progress` (step, batch generator state, history, losses, step times) and `optimizer` as JSON. */
  metadata: Record<string, string>;
}

interface Progress {
  attnType: AttnType;
  step: number;
  data: GeneratorState;
  history: EvalPoint[];
  trainLosses: number[];
  stepTimes: number[];
}

/**
 * Options of trainModel beyond the config.
 * @example
 * trainModel('standard', config, { callbacks: { onStep: (s) => console.log(s.step, s.loss) } })
 */
export interface TrainModelOptions {
  /** The held-out set (default: makeEvalSet from the config, seed + 2). */
  evalSet?: readonly [Tensor, Tensor][];
  callbacks?: TrainCallbacks;
  /** Continue from this checkpoint (written by onCheckpoint of an earlier run of the same config). */
  resume?: TrainCheckpoint;
  /** Call onCheckpoint after every this many steps (and never at the last step). */
  checkpointEvery?: number;
  onCheckpoint?(checkpoint: TrainCheckpoint, step: number): void;
}

/** The RoPE table length a config implies. */
const maxLenOf = (c: TrainConfig): number => c.maxLen ?? evenSeqLen(c.seqLen);

/**
 * Train the copy task's model of one attention type: weights from Generator(seed), batches from
 * Generator(seed + 1), evaluations at step 0, every evalEvery steps and at the end. A run
 * resumed from a checkpoint continues the same batch stream and optimizer state, so it ends with
 * the same numbers, bit for bit, as the run that was never interrupted. Any non-finite loss,
 * held-out loss or weight stops it with a DivergenceError naming the model and the step.
 * @example const r = trainModel('triple', { ...DEFAULT_TRAIN_CONFIG, steps: 100 }); r.stepsTo99
 */
export function trainModel(attnType: AttnType, c: TrainConfig, opts: TrainModelOptions = {}): ModelResult {
  validateTrainConfig(c);
  const callbacks = opts.callbacks ?? {};
  const evalSet = opts.evalSet ?? makeEvalSet(c.evalSize, c.batchSize, c.seqLen, c.vocab, c.seed + 2);
  const model = new TestModel({ vocab: c.vocab, dModel: c.dModel, nHead: c.nHead, maxLen: maxLenOf(c), attnType, generator: new Generator(c.seed) });
  const init = c.init?.[attnType];
  if (init) model.loadStateDict(init);
  else if ((c.hubTokens ?? 0) > 0) scaleHubEmbeddings(model, c.hubTokens!, c.hubScale ?? 1);
  const opt = new Adam(model.parameters(), { lr: c.lr });
  const data = new Generator(c.seed + 1); // the same batches for every model
  const history: EvalPoint[] = [];
  const trainLosses: number[] = [];
  const stepTimes: number[] = [];
  let start = 0;
  if (opts.resume) {
    const p = restoreCheckpoint(opts.resume, attnType, model, opt);
    data.setState(p.data);
    history.push(...p.history);
    trainLosses.push(...p.trainLosses);
    stepTimes.push(...p.stepTimes);
    start = p.step;
  }
  callbacks.onModelStart?.(attnType, model);

  // elapsed time continues from the interrupted run's
  const t0 = performance.now() - (history.length > 0 ? history[history.length - 1].elapsedMs : 0);
  const record = (step: number): EvalPoint => {
    const since = trainLosses.slice(history.length === 0 ? 0 : history[history.length - 1].step);
    const { loss, copyAccuracy: acc } = evaluate(model, evalSet);
    if (!Number.isFinite(loss)) throw new DivergenceError(attnType, step, `held-out loss ${loss}`);
    const bad = firstNonFiniteWeight(model);
    if (bad !== null) throw new DivergenceError(attnType, step, bad);
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

  let last = start === 0 ? record(0) : history[history.length - 1];
  for (let step = start + 1; step <= c.steps; step++) {
    const [inputs, targets] = generateCopyBatch(c.batchSize, c.seqLen, c.vocab, data);
    const s0 = performance.now();
    const loss = trainStep(model, opt, inputs, targets);
    const ms = performance.now() - s0;
    trainLosses.push(loss);
    stepTimes.push(ms);
    if (!Number.isFinite(loss)) throw new DivergenceError(attnType, step, `training loss ${loss}`);
    if (step % c.evalEvery === 0 || step === c.steps) last = record(step);
    callbacks.onStep?.({ attnType, step, steps: c.steps, loss, stepMs: ms, lastEval: last });
    if (opts.onCheckpoint && opts.checkpointEvery && step % opts.checkpointEvery === 0 && step < c.steps) {
      opts.onCheckpoint(makeCheckpoint({ attnType, step, data: data.getState(), history, trainLosses, stepTimes }, model, opt), step);
    }
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

/** Hub tokens: rows 0 … k − 1 of the embedding, scaled by s (the checkpoint keeps the seed's keys). */
function scaleHubEmbeddings(model: TestModel, k: number, s: number): void {
  const w = model.embed.weight; // [V, C]
  const scaled = Float32Array.from(w.data() as Float32Array);
  for (let i = 0; i < k * w.shape[1]; i++) scaled[i] *= s;
  model.loadStateDict({ ...model.stateDict(), 'embed.weight': Tensor.fromArray(scaled, w.shape, w.dtype) });
}

function makeCheckpoint(progress: Progress, model: TestModel, opt: Adam): TrainCheckpoint {
  const tensors: Record<string, Tensor> = {};
  // a snapshot: stateDict's tensors share the live weights' storage
  for (const [k, t] of Object.entries(model.stateDict())) tensors[`model.${k}`] = Tensor.fromArray(t.data().slice(), t.shape, t.dtype);
  const o = optimizerStateToTensors(opt.stateDict());
  for (const [k, t] of Object.entries(o.tensors)) tensors[`optim.${k}`] = t;
  return { tensors, metadata: { ...o.metadata, progress: JSON.stringify(progress) } };
}

function restoreCheckpoint(ckpt: TrainCheckpoint, attnType: AttnType, model: TestModel, opt: Adam): Progress {
  if (typeof ckpt.metadata.progress !== 'string') throw new WedgeError(`trainModel: the checkpoint has no 'progress' metadata (not a training checkpoint)`);
  let p: Progress;
  try {
    p = JSON.parse(ckpt.metadata.progress) as Progress;
  } catch (e) {
    throw new WedgeError(`trainModel: the checkpoint's 'progress' metadata is not JSON (${(e as Error).message})`);
  }
  if (p.attnType !== attnType) throw new WedgeError(`trainModel: the checkpoint is of a ${p.attnType} model, not ${attnType}`);
  const pick = (prefix: string): Record<string, Tensor> =>
    Object.fromEntries(Object.entries(ckpt.tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  model.loadStateDict(pick('model.'));
  opt.loadStateDict(optimizerStateFromTensors(pick('optim.'), ckpt.metadata));
  return p;
}

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
  const evalSet = makeEvalSet(config.evalSize, config.batchSize, config.seqLen, config.vocab, config.seed + 2);
  const models = config.attnTypes.map((attnType) => trainModel(attnType, config, { evalSet, callbacks }));
  return {
    config: { ...rest, maxLen: maxLenOf(config) },
    lossFloor: lossFloor(config.seqLen, config.vocab),
    chance: 1 / config.vocab,
    models,
  };
}

/**
 * Copy accuracy at other sequence lengths (length generalisation): for each length, a held-out set
 * of `size` sequences from Generator(seed + 2), in batches small enough that the [B, H, T, T]
 * scores stay near a training batch's size. The model's RoPE tables must cover the longest.
 * @example evaluateLengths(model, [128, 256], { size: 128, batchSize: 32, trainSeqLen: 64, vocab: 16, seed: 0 })
 */
export function evaluateLengths(
  model: TestModel,
  lengths: readonly number[],
  o: { size: number; batchSize: number; trainSeqLen: number; vocab: number; seed: number },
): { seqLen: number; copyAccuracy: number; evalLoss: number }[] {
  return lengths.map((seqLen) => {
    const L = evenSeqLen(seqLen);
    if (L - 1 > model.config.maxLen) {
      throw new WedgeError(`evaluateLengths: length ${seqLen} needs RoPE tables of ${L - 1} rows, the model has ${model.config.maxLen}`);
    }
    const batch = Math.max(1, Math.min(o.size, Math.floor(o.batchSize * (evenSeqLen(o.trainSeqLen) / L) ** 2)));
    const { loss, copyAccuracy: acc } = evaluate(model, makeEvalSet(o.size, batch, seqLen, o.vocab, o.seed + 2));
    return { seqLen, copyAccuracy: acc, evalLoss: loss };
  });
}
