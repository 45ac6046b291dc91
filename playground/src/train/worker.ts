// The training worker: runs a TrainingSession one step at a time, yielding between steps so that
// pause, resume, restart and checkpoint requests get through, and reports progress a few times a second.
import * as core from '@wedge/core';
import { getBackend, listBackends, setBackend } from '@wedge/core';
import { ATTN_TYPES, type AttnType } from '@wedge/models';
import { type BackendChoice, checkpointBytes, readCheckpoint, type PlaygroundConfig } from './config.ts';
import type { ToMain, ToWorker } from './protocol.ts';
import { TrainingSession } from './session.ts';

const post = (message: ToMain, transfer: Transferable[] = []): void => self.postMessage(message, { transfer });

/** Messages every this many ms at most (evaluations are always sent). */
const REPORT_MS = 200;
/** Attention maps every this many ms at most (and at the last step). */
const MAPS_MS = 1500;

let session: TrainingSession | null = null;
let paused = false;
/** Set when a new run replaces this one: the old loop ends at its next step. */
let stopped = false;
let wake: (() => void) | null = null;

// A macrotask without setTimeout's 4 ms clamp: lets queued messages run between steps.
const channel = new MessageChannel();
let tick: (() => void) | null = null;
channel.port1.onmessage = () => tick?.();
const yieldToEvents = (): Promise<void> =>
  new Promise((resolve) => {
    tick = resolve;
    channel.port2.postMessage(0);
  });

/** Why each backend cannot run here (null: it can). */
async function probeBackends(): Promise<Record<BackendChoice, string | null>> {
  let webgl: string | null = null;
  if (typeof OffscreenCanvas === 'undefined') webgl = 'this browser has no OffscreenCanvas in workers';
  else if (new OffscreenCanvas(1, 1).getContext('webgl2') === null) webgl = 'no WebGL2 context in a worker here';
  return { js: null, webgl, wasm: wasmProblem() };
}

/**
 * The WebAssembly backend registers itself in @wedge/core as 'wasm' where WebAssembly SIMD runs
 * (and may say why not through wasmInfo()). Read through an index so this page builds at commits
 * before the backend existed, and picks it up, unchanged, once it does.
 */
const wasmApi = core as unknown as { wasmInfo?: () => { reason?: string }; setNumThreads?: (n: number) => void; getNumThreads?: () => number };

function wasmProblem(): string | null {
  if (listBackends().includes('wasm')) return null;
  const reason = wasmApi.wasmInfo?.().reason;
  return reason ? `unavailable here: ${reason}` : 'not in this build: this version of @wedge/core has no WebAssembly backend';
}

async function selectBackend(choice: BackendChoice): Promise<string> {
  if (choice === 'js') {
    setBackend('cpu');
    return 'JavaScript';
  }
  if (choice === 'webgl') {
    const gpu = await import('@wedge/gpu');
    if (!gpu.useGpu({ mode: 'webgl2', quiet: true })) throw new Error('WebGL: gpu.js could not open a WebGL2 context in this worker');
    return `WebGL (gpu.js ${gpu.gpuInfo()?.mode ?? 'webgl2'})`;
  }
  const problem = wasmProblem();
  if (problem !== null) throw new Error(`WebAssembly: ${problem}`);
  setBackend('wasm');
  // threads need SharedArrayBuffer, which needs the page cross-origin isolated (COOP + COEP); one
  // core stays free for the page itself, or its redraws would queue behind the training threads
  if (wasmApi.setNumThreads) wasmApi.setNumThreads(crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency - 1) : 1);
  const threads = wasmApi.getNumThreads?.() ?? 1;
  return `WebAssembly, ${threads} thread${threads === 1 ? '' : 's'}`;
}

async function run(config: PlaygroundConfig, init: Partial<Record<AttnType, Uint8Array>>, maxLen?: number): Promise<void> {
  const backend = await selectBackend(config.backend);
  const s = new TrainingSession(config, init, maxLen);
  session = s;
  paused = false;
  stopped = false;
  post({ type: 'started', config, backend: `${backend} (Wedge backend '${getBackend().name}')`, parameters: s.parameters(), sample: s.sample, L: s.L, lossFloor: s.lossFloor });
  post({ type: 'progress', step: 0, losses: { standard: [], triple: [] }, evals: s.evaluate(), maps: s.maps(), stepsPerSec: { standard: 0, triple: 0 } });
  post({ type: 'state', state: 'running' });

  let losses: Record<AttnType, number[]> = { standard: [], triple: [] };
  const window: { t: number; ms: Record<AttnType, number> }[] = [];
  let lastReport = performance.now();
  let lastMaps = performance.now();
  while (!s.done) {
    await yieldToEvents();
    if (stopped || session !== s) return;
    if (paused) {
      post({ type: 'state', state: 'paused' });
      await new Promise<void>((resolve) => (wake = resolve));
      if (stopped || session !== s) return;
      post({ type: 'state', state: 'running' });
    }
    const { loss, ms } = s.trainStep();
    for (const a of ATTN_TYPES) {
      if (!Number.isFinite(loss[a])) throw new Error(`${a} loss became ${loss[a]} at step ${s.step}: lower lr`);
      losses[a].push(loss[a]);
    }
    const now = performance.now();
    window.push({ t: now, ms });
    while (window.length > 1 && now - window[0].t > 1000) window.shift();
    const evalNow = s.step % config.evalEvery === 0 || s.done;
    if (evalNow || now - lastReport > REPORT_MS) {
      const mapsNow = s.done || (evalNow && now - lastMaps > MAPS_MS);
      const stepsPerSec = {} as Record<AttnType, number>;
      for (const a of ATTN_TYPES) stepsPerSec[a] = 1000 / (window.reduce((sum, w) => sum + w.ms[a], 0) / window.length);
      post({ type: 'progress', step: s.step, losses, evals: evalNow ? s.evaluate() : null, maps: mapsNow ? s.maps() : null, stepsPerSec });
      if (mapsNow) lastMaps = performance.now();
      losses = { standard: [], triple: [] };
      lastReport = performance.now();
    }
  }
  post({ type: 'state', state: 'done' });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  const fail = (e: unknown): void => post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  try {
    switch (msg.type) {
      case 'start':
        stopped = true; // a running loop notices at its next step
        wake?.();
        wake = null;
        run(msg.config, msg.init, msg.maxLen).catch(fail);
        break;
      case 'pause':
        paused = true;
        break;
      case 'resume':
        paused = false;
        wake?.();
        wake = null;
        break;
      case 'export': {
        if (session === null) throw new Error('nothing to download yet: press Train first');
        const bytes = checkpointBytes(session.models[msg.attnType], session.config, session.step);
        post({ type: 'checkpoint', attnType: msg.attnType, bytes, filename: `wedge-${msg.attnType}-step${session.step}.safetensors` }, [bytes.buffer]);
        break;
      }
      case 'probe':
        if (session === null) {
          post({ type: 'error', message: 'nothing to probe yet: press Train in panel 1 first', about: 'probe' });
          break;
        }
        post({ type: 'probed', step: session.step, rows: session.probe() });
        break;
      case 'inspect': {
        const info = readCheckpoint(msg.bytes, msg.name);
        post({ type: 'inspected', name: msg.name, attnType: info.attnType, vocab: info.vocab, dModel: info.dModel, nHead: info.nHead, maxLen: info.maxLen, bytes: msg.bytes });
        break;
      }
    }
  } catch (e) {
    fail(e);
  }
};

probeBackends().then((available) => post({ type: 'backends', available }));
