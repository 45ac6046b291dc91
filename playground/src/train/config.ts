// The playground's training config, its defaults, and checkpoints as bytes (safetensors with the
// metadata the seed's PyTorch TestModel needs). Pure module: no DOM, no worker; tested in Node.
import { Tensor, WedgeError, decodeSafetensors, encodeSafetensors, fmtShape } from '@wedge/core';
import { type AttnType, TestModel, evenSeqLen, validateTrainConfig, DEFAULT_TRAIN_CONFIG } from '@wedge/models';

/** Where the training runs: Wedge's plain JS backend, gpu.js on WebGL2, or WebAssembly. */
export type BackendChoice = 'js' | 'webgl' | 'wasm';
export const BACKENDS: readonly BackendChoice[] = ['wasm', 'webgl', 'js'];
export const BACKEND_LABELS: Record<BackendChoice, string> = { wasm: 'WebAssembly', webgl: 'WebGL (gpu.js)', js: 'JavaScript (CPU reference)' };

/** The CLI's flags (pnpm --filter examples copy-task), as the Train panel's controls. */
export interface PlaygroundConfig {
  vocab: number;
  dModel: number;
  nHead: number;
  seqLen: number;
  batchSize: number;
  lr: number;
  steps: number;
  seed: number;
  evalEvery: number;
  evalSize: number;
  backend: BackendChoice;
}

/**
 * Smaller than the CLI's defaults (d_model 64, seq_len 64, batch 32) so that both models copy
 * within a minute of page time on two cores: measured in Node, both pass 50 % copy accuracy
 * near step 125 (≈ 10 ms per standard step, ≈ 23 ms per triple step) and reach ~100 % by 300.
 */
export const PLAYGROUND_DEFAULTS: PlaygroundConfig = {
  vocab: 16,
  dModel: 32,
  nHead: 2,
  seqLen: 32,
  batchSize: 16,
  lr: 3e-3,
  steps: 400,
  seed: 0,
  evalEvery: 10,
  evalSize: 64,
  backend: 'js', // the page switches to 'wasm' once the worker reports that WebAssembly runs
};

/** The CLI's defaults, for the "CLI defaults" button. */
export const CLI_DEFAULTS: PlaygroundConfig = {
  vocab: DEFAULT_TRAIN_CONFIG.vocab,
  dModel: DEFAULT_TRAIN_CONFIG.dModel,
  nHead: DEFAULT_TRAIN_CONFIG.nHead,
  seqLen: DEFAULT_TRAIN_CONFIG.seqLen,
  batchSize: DEFAULT_TRAIN_CONFIG.batchSize,
  lr: DEFAULT_TRAIN_CONFIG.lr,
  steps: DEFAULT_TRAIN_CONFIG.steps,
  seed: DEFAULT_TRAIN_CONFIG.seed,
  evalEvery: DEFAULT_TRAIN_CONFIG.evalEvery,
  evalSize: DEFAULT_TRAIN_CONFIG.evalSize,
  backend: PLAYGROUND_DEFAULTS.backend,
};

/**
 * Check a config as the CLI does (same messages, from @wedge/models), plus the page's own limits.
 * @example validatePlaygroundConfig({ ...PLAYGROUND_DEFAULTS, nHead: 3 }) // throws: dModel (32) must be nHead (3) times an even head size
 */
export function validatePlaygroundConfig(c: PlaygroundConfig, maxLen?: number): void {
  validateTrainConfig({ ...c, attnTypes: ['standard', 'triple'], maxLen });
  if (c.seqLen > 256) throw new WedgeError(`playground: seq_len ${c.seqLen} is above the page's limit of 256 (the heatmaps would be unreadable)`);
}

/** The model a config builds (maxLen: the checkpoint's RoPE length, else the even seq_len). */
export function modelShape(c: PlaygroundConfig, maxLen?: number): { vocab: number; dModel: number; nHead: number; maxLen: number } {
  return { vocab: c.vocab, dModel: c.dModel, nHead: c.nHead, maxLen: maxLen ?? evenSeqLen(c.seqLen) };
}

/**
 * A model's weights as safetensors bytes, with the metadata the CLI writes: what the seed's
 * `TestModel(vocab, d_model, n_head, max_len, attn_type)` needs to load it with strict=True.
 * @example const bytes = checkpointBytes(model, config, 300); // → new Blob([bytes])
 */
export function checkpointBytes(model: TestModel, c: PlaygroundConfig, step: number): Uint8Array {
  return encodeSafetensors(model.stateDict(), {
    format: 'pt',
    attn_type: model.config.attnType,
    vocab: String(model.config.vocab),
    d_model: String(model.config.dModel),
    n_head: String(model.config.nHead),
    max_len: String(model.config.maxLen),
    seq_len: String(c.seqLen),
    steps: String(step),
    seed: String(c.seed),
    source: 'wedge playground',
  });
}

/** What a checkpoint holds, read from its tensors' names and shapes (metadata only cross-checks). */
export interface CheckpointInfo {
  attnType: AttnType;
  vocab: number;
  dModel: number;
  nHead: number;
  maxLen: number;
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Parse checkpoint bytes (this page's, the CLI's, or the seed's PyTorch state dict saved with
 * safetensors) and work out the TestModel that fits them; the model's strict loadStateDict then
 * checks every key and shape. Throws a WedgeError naming what does not fit.
 * @example const info = readCheckpoint(new Uint8Array(await file.arrayBuffer()), file.name);
 */
export function readCheckpoint(bytes: Uint8Array, source = 'checkpoint'): CheckpointInfo {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const fail = (msg: string): never => {
    throw new WedgeError(`load checkpoint: ${source}: ${msg}`);
  };
  const attnType: AttnType = 'attn.qkv.weight' in tensors ? 'standard' : 'attn.W_q.weight' in tensors ? 'triple' : fail(
    `neither 'attn.qkv.weight' (standard) nor 'attn.W_q.weight' (triple) is in it; keys: ${Object.keys(tensors).join(', ')}`,
  );
  const embed = tensors['embed.weight'] ?? fail(`'embed.weight' is missing`);
  const cos = tensors['attn.rope.cos'] ?? fail(`'attn.rope.cos' is missing`);
  if (embed.ndim !== 2 || cos.ndim !== 2) fail(`embed.weight ${fmtShape(embed.shape)} and attn.rope.cos ${fmtShape(cos.shape)} must be 2-D`);
  const [vocab, dModel] = embed.shape;
  const [maxLen, halfHead] = cos.shape;
  const nHead = dModel / (2 * halfHead);
  if (!Number.isInteger(nHead)) fail(`d_model ${dModel} is not a multiple of the RoPE head size ${2 * halfHead}`);
  const stated = { attn_type: attnType, vocab, d_model: dModel, n_head: nHead, max_len: maxLen } as Record<string, string | number>;
  for (const [k, v] of Object.entries(stated)) {
    if (metadata[k] !== undefined && metadata[k] !== String(v)) fail(`its metadata says ${k} = ${metadata[k]} but its tensors say ${v}`);
  }
  const probe = new TestModel({ vocab, dModel, nHead, maxLen, attnType });
  probe.loadStateDict(tensors); // strict: every key and shape, or a WedgeError listing them
  return { attnType, vocab, dModel, nHead, maxLen, tensors, metadata };
}
