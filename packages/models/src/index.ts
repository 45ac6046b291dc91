/**
 * The seed's models: RoPE, standard and triple-product attention, the copy task, the training comparison and the resilience table.
 * @module @wedge/models
 */
// @wedge/models: the seed's models in Wedge (RoPE, standard and triple-product attention, the
// one-layer TestModel), the copy task, the resilience analysis and the training comparison.
export { RoPE, ropeTables, applyRope, applyRopeComposite } from './rope.ts';
export {
  StandardAttention, causalMask, causalSoftmax, causalSoftmaxComposite, splitHeads, mergeHeads, type AttentionOptions,
} from './attention.ts';
export { TripleProductAttention } from './triple_attention.ts';
export { TestModel, ATTN_TYPES, type AttnType, type TestModelConfig } from './test_model.ts';
export { generateCopyBatch, evenSeqLen, copyStart, lossFloor, copyAccuracy } from './copy_task.ts';
export {
  gramScore, resilienceTable, formatResilienceTable, RESILIENCE_MAGNITUDES, type ResilienceRow,
} from './resilience.ts';
export {
  trainComparison, trainStep, evaluate, makeEvalSet, validateTrainConfig, DEFAULT_TRAIN_CONFIG,
  type TrainConfig, type TrainCallbacks, type EvalPoint, type ModelResult, type ComparisonResult, type StepInfo,
} from './train.ts';
export { gramDeterminant, gramDeterminantComposite, tripleAttentionWeightsComposite } from './triple_attention.ts';
export {
  trainModel, evaluateLengths, DivergenceError, firstNonFiniteWeight, type TrainCheckpoint, type TrainModelOptions,
} from './train.ts';
export {
  probeLoudKeys, loudProbeSetup, forwardWithKeyOffset, PROBE_MAGNITUDES, type LoudProbeRow, type LoudProbeSetup,
} from './probe.ts';
