// Messages between the Train panel (main thread) and the training worker.
import type { AttnType, LoudProbeRow } from '@wedge/models';
import type { BackendChoice, PlaygroundConfig } from './config.ts';

/** One evaluation of one model on the held-out set. */
export interface EvalSnapshot {
  step: number;
  evalLoss: number;
  copyAccuracy: number;
}

/** Attention maps of one model on the sample sequence (see inside/attention_maps.ts). */
export interface MapsSnapshot {
  heads: number;
  T: number;
  weights: Float32Array;
  gramScore?: Float32Array;
  induction: number;
}

export type ToWorker =
  | { type: 'start'; config: PlaygroundConfig; init: Partial<Record<AttnType, Uint8Array>>; maxLen?: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'export'; attnType: AttnType }
  | { type: 'probe' }
  | { type: 'inspect'; bytes: Uint8Array; name: string };

export type ToMain =
  /** null: usable; a string: why not. */
  | { type: 'backends'; available: Record<BackendChoice, string | null> }
  | { type: 'started'; config: PlaygroundConfig; backend: string; parameters: Record<AttnType, number>; sample: number[]; L: number; lossFloor: number }
  | {
      type: 'progress';
      step: number;
      /** Training losses of the steps since the last message, per model. */
      losses: Record<AttnType, number[]>;
      evals: Record<AttnType, EvalSnapshot> | null;
      maps: Record<AttnType, MapsSnapshot> | null;
      /** Steps per second of each model over the last second or so. */
      stepsPerSec: Record<AttnType, number>;
    }
  | { type: 'state'; state: 'running' | 'paused' | 'done' }
  | { type: 'checkpoint'; attnType: AttnType; bytes: Uint8Array; filename: string }
  | { type: 'inspected'; name: string; attnType: AttnType; vocab: number; dModel: number; nHead: number; maxLen: number; bytes: Uint8Array }
  | { type: 'probed'; step: number; rows: Record<AttnType, LoudProbeRow[]> }
  | { type: 'error'; message: string; about?: 'probe' };
