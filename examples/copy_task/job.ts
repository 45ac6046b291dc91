// One job of the study: train one attention type from one seed, then (when asked) the loud-key
// probe and the longer lengths. The same code runs in the main thread and in worker threads, so
// the numbers of a seed do not depend on how many run at once. Files a job writes go into the
// run's .partial folder: a resumable checkpoint while training, the model and a result at the end.
import { existsSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { type Tensor, getBackend, getNumThreads, setBackend, setNumThreads } from '@wedge/core';
import { loadSafetensors, saveSafetensors } from '@wedge/core/node';
import {
  type AttnType, type EvalPoint, type LoudProbeRow, type ModelResult, type TrainConfig, DivergenceError, evaluateLengths, makeEvalSet, probeLoudKeys, trainModel,
} from '@wedge/models';

export interface JobSpec {
  attnType: AttnType;
  seed: number;
  /** The backend to train on ('wasm', 'cpu'; 'gpu' only in the thread holding the GL context). */
  backend: string;
  /** Threads for the wasm engine in this job's thread; ignored by the other backends. */
  threads: number;
  /** The training config (its seed and attnTypes are this job's). */
  config: Omit<TrainConfig, 'init' | 'attnTypes' | 'seed'>;
  /** A checkpoint to start from (--init), or null. */
  initFile: string | null;
  probeLoud: boolean;
  evalLengths: number[];
  checkpointEvery: number;
  /** The run's .partial folder. */
  staging: string;
  /** safetensors metadata of the saved model (what the seed's TestModel needs to load it). */
  modelMetadata: Record<string, string>;
  /** File name of the trained model in the run folder. */
  modelFile: string;
}

/** A trained model's metrics (ModelResult without the model) and what came after training. */
export interface JobResult extends Omit<ModelResult, 'model'> {
  seed: number;
  /** Loud-key probe rows, m = 0 (unperturbed) first; null without --probe-loud. */
  probe: LoudProbeRow[] | null;
  /** Copy accuracy at --eval-lengths; null without them. */
  lengths: { seqLen: number; copyAccuracy: number; evalLoss: number }[] | null;
  modelFile: string;
  /** Whether training continued from a checkpoint. */
  resumed: boolean;
  /** The engine that trained this model, as engineLabel names it, e.g. 'wasm (2 threads)'. */
  backend: string;
}

/**
 * A backend in words: 'wasm (2 threads)', 'cpu (JS reference)', 'gpu'; by default the one running
 * in this thread.
 * @example engineLabel('wasm', 1) // 'wasm (1 thread)'
 */
export function engineLabel(name = getBackend().name, threads = getNumThreads()): string {
  if (name === 'wasm') return `wasm (${threads} thread${threads === 1 ? '' : 's'})`;
  return name === 'cpu' ? 'cpu (JS reference)' : name;
}

/** Make this thread train on the spec's backend, with its thread count for the wasm engine. */
function useEngine(spec: Pick<JobSpec, 'backend' | 'threads'>): void {
  if (getBackend().name !== spec.backend) setBackend(spec.backend);
  if (spec.backend === 'wasm') setNumThreads(spec.threads);
}

/** What a job reports while it runs. */
export type JobEvent =
  | { kind: 'eval'; attnType: AttnType; seed: number; point: EvalPoint; steps: number }
  | { kind: 'step'; attnType: AttnType; seed: number; step: number; steps: number; loss: number; copyAccuracy: number }
  | { kind: 'phase'; attnType: AttnType; seed: number; phase: string }
  | { kind: 'done'; attnType: AttnType; seed: number; copyAccuracy: number };

export const jobId = (attnType: AttnType, seed: number): string => `${attnType}-seed${seed}`;

/** The loud-key probe's seed for a run seed (its own stream: directions and loud positions). */
export const probeSeed = (seed: number): number => seed + 3;

/** Write a file atomically (temp name, then rename). */
function writeAtomic(file: string, data: string): void {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}

/**
 * Run one job to the end (or pick up its finished result after a resume).
 * @example const r = runJob(spec, (e) => console.log(e.kind));
 */
export function runJob(spec: JobSpec, emit: (e: JobEvent) => void): JobResult {
  const id = jobId(spec.attnType, spec.seed);
  const resultFile = join(spec.staging, 'jobs', `${id}.json`);
  if (existsSync(resultFile)) return JSON.parse(readFileSync(resultFile, 'utf8')) as JobResult;
  useEngine(spec);
  const ckptFile = join(spec.staging, 'checkpoints', `${id}.safetensors`);
  const resume = existsSync(ckptFile) ? loadSafetensors(ckptFile) : undefined;
  const config: TrainConfig = { ...spec.config, attnTypes: [spec.attnType], seed: spec.seed };
  if (spec.initFile !== null) config.init = { [spec.attnType]: loadSafetensors(spec.initFile).tensors as Record<string, Tensor> };
  const killAt = process.env.WEDGE_COPY_TASK_KILL_AT; // test hook: "<attn>:<step>" dies (SIGKILL) after that checkpoint
  let lastStepSent = 0;
  // the held-out set trainModel would make (seed + 2), made once: the probe asks it too
  const evalSet = makeEvalSet(config.evalSize, config.batchSize, config.seqLen, config.vocab, spec.seed + 2);
  const m = trainModel(spec.attnType, config, {
    evalSet,
    resume,
    checkpointEvery: spec.checkpointEvery,
    onCheckpoint: (ckpt, step) => {
      saveSafetensors(ckptFile, ckpt.tensors, ckpt.metadata); // atomic (temp file, rename)
      if (killAt === `${spec.attnType}:${step}`) process.kill(process.pid, 'SIGKILL');
    },
    callbacks: {
      onEval: (attnType, point) => emit({ kind: 'eval', attnType, seed: spec.seed, point, steps: config.steps }),
      onStep: (s) => {
        const now = performance.now();
        if (now - lastStepSent < 100 && s.step !== s.steps) return;
        lastStepSent = now;
        emit({ kind: 'step', attnType: s.attnType, seed: spec.seed, step: s.step, steps: s.steps, loss: s.loss, copyAccuracy: s.lastEval.copyAccuracy });
      },
    },
  });
  let probe: LoudProbeRow[] | null = null;
  if (spec.probeLoud) {
    emit({ kind: 'phase', attnType: spec.attnType, seed: spec.seed, phase: 'loud-key probe' });
    const run = probeLoudKeys(m.model, evalSet, { seed: probeSeed(spec.seed) });
    probe = run.rows;
    // everything scripts/probe_loud.py needs to recompute the rows in PyTorch from the checkpoint
    const rowsOf = (i: 0 | 1): number[][] => evalSet.flatMap((b) => b[i].toArray() as number[][]);
    const probeInput = { checkpoint: spec.modelFile, batchSize: config.batchSize, ...run.setup, inputs: rowsOf(0), targets: rowsOf(1), rows: run.rows };
    writeAtomic(join(spec.staging, 'probe', `${id}.json`), `${JSON.stringify(probeInput)}\n`);
  }
  let lengths: JobResult['lengths'] = null;
  if (spec.evalLengths.length > 0) {
    emit({ kind: 'phase', attnType: spec.attnType, seed: spec.seed, phase: `lengths ${spec.evalLengths.join(', ')}` });
    lengths = evaluateLengths(m.model, spec.evalLengths, { size: config.evalSize, batchSize: config.batchSize, trainSeqLen: config.seqLen, vocab: config.vocab, seed: spec.seed });
  }
  saveSafetensors(join(spec.staging, spec.modelFile), m.model.stateDict(), spec.modelMetadata);
  const { model: _model, ...rest } = m;
  const result: JobResult = { ...rest, seed: spec.seed, probe, lengths, modelFile: spec.modelFile, resumed: resume !== undefined, backend: engineLabel() };
  writeAtomic(resultFile, `${JSON.stringify(result)}\n`);
  rmSync(ckptFile, { force: true });
  emit({ kind: 'done', attnType: spec.attnType, seed: spec.seed, copyAccuracy: result.final.copyAccuracy });
  return result;
}

/** A job's failure as the main thread sees it. */
export interface JobFailure {
  attnType: AttnType;
  seed: number;
  message: string;
  /** The model's numbers stopped being finite (as opposed to a crash). */
  diverged: boolean;
  step: number | null;
}

export function failureOf(spec: Pick<JobSpec, 'attnType' | 'seed'>, e: unknown): JobFailure {
  const diverged = e instanceof DivergenceError || (e as { name?: string })?.name === 'DivergenceError';
  return {
    attnType: spec.attnType,
    seed: spec.seed,
    message: String((e as Error)?.message ?? e).split('\n')[0],
    diverged,
    step: diverged ? (e as DivergenceError).step : null,
  };
}
