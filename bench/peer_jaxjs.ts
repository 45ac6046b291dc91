// jax-js (@jax-js/jax, its generated-WebAssembly `wasm` device) as a benchmark peer: jitted matmul,
// and the seed's model written in jax-js with one jit over forward + backward + Adam.
// Spawned by run.ts: tsx peer_jaxjs.ts '<job>' --workers 0|N
//   --workers 0: as Node 20 runs it out of the box, one thread (Node 20 has no global Worker);
//   --workers N: N Web Workers through a small shim over node:worker_threads (installWorkerShim).
// NOTE: jax-js owns arrays by reference count: every use of an array but the last takes `.ref`.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { parseArgs } from 'node:util';
import { Worker as NodeWorker } from 'node:worker_threads';
import { Generator } from '@wedge/core';
import { type AttnType, TestModel, generateCopyBatch } from '@wedge/models';
import { type MatmulCase, type StepConfig, type StepTiming, flopsOf, parseJob, report, stepKey, timeGflops, timeSteps } from './harness.ts';

const { values: opts } = parseArgs({ args: process.argv.slice(3), options: { workers: { type: 'string', default: '0' } } });
const workers = Number(opts.workers);

/**
 * jax-js starts its pool with `new Worker(URL.createObjectURL(new Blob([source])))` and talks to it with
 * `onmessage`/`postMessage`, as in a browser. This gives Node 20 that much: Blob remembers its source,
 * createObjectURL maps the URL back to it, and Worker runs the source in a worker_threads worker whose
 * `self.onmessage`/`postMessage` are wired to the parent port. The shared WebAssembly.Memory and the
 * compiled modules cross postMessage as they do between Web Workers.
 */
function installWorkerShim(): void {
  const sources = new Map<string, string>();
  const NodeBlob = globalThis.Blob;
  (globalThis as any).Blob = class extends NodeBlob {
    readonly source: string;
    constructor(parts: any[], options?: { type?: string }) {
      super(parts, options);
      this.source = parts.map(String).join('');
    }
  };
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = (blob: any) => {
    const url = createObjectURL(blob);
    sources.set(url, blob.source);
    return url;
  };
  const prelude = `const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
parentPort.on('message', (data) => self.onmessage({ data }));
`;
  (globalThis as any).Worker = class {
    readonly #worker: NodeWorker;
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onerror: ((e: Error) => void) | null = null;
    constructor(url: string | URL) {
      const source = sources.get(String(url));
      if (source === undefined) throw new Error(`worker shim: no Blob source for ${String(url)}`);
      this.#worker = new NodeWorker(prelude + source, { eval: true });
      this.#worker.on('message', (data) => this.onmessage?.({ data }));
      this.#worker.on('error', (e) => this.onerror?.(e));
    }
    postMessage(message: unknown): void {
      this.#worker.postMessage(message);
    }
    terminate(): void {
      void this.#worker.terminate();
    }
  };
}

(globalThis as any).navigator ??= { hardwareConcurrency: Math.max(1, workers) }; // Node 20 has no navigator
if (workers > 0) installWorkerShim();
const jax = await import('@jax-js/jax');
const { numpy: np, nn, jit, valueAndGrad, init } = jax;
type Arr = InstanceType<typeof jax.Array>;
await init('wasm');
const job = parseJob();
const detail = workers > 0 ? `wasm device, ${workers} workers (worker_threads shim)` : 'wasm device, 1 thread (Node 20: no global Worker)';

const f32 = (data: Float32Array | Int32Array | number[], shape: number[], dtype = np.float32): Arr =>
  np.array(data instanceof Int32Array || data instanceof Float32Array ? data : new Float32Array(data), { dtype }).reshape(shape);

function randn(n: number, g: Generator): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = g.nextNormal();
  return out;
}

async function matmulJob(cases: MatmulCase[], timing: Parameters<typeof timeGflops>[2]): Promise<Record<string, number>> {
  const gflops: Record<string, number> = {};
  const g = new Generator(0);
  for (const c of cases) {
    const lead = c.batch > 1 ? [c.batch] : [];
    // stored as the other peers store them; the transpose is part of the jitted product
    const a = c.variant === 'aTb' ? f32(randn(c.batch * c.M * c.K, g), [...lead, c.K, c.M]) : f32(randn(c.batch * c.M * c.K, g), [...lead, c.M, c.K]);
    const b = c.variant === 'abT' ? f32(randn(c.batch * c.K * c.N, g), [...lead, c.N, c.K]) : f32(randn(c.batch * c.K * c.N, g), [...lead, c.K, c.N]);
    const mT = (x: Arr): Arr => np.swapaxes(x, -2, -1);
    const product = jit((x: Arr, y: Arr) => np.matmul(c.variant === 'aTb' ? mT(x) : x, c.variant === 'abT' ? mT(y) : y));
    gflops[c.key] = await timeGflops(flopsOf(c), async () => (await product(a.ref, b.ref).blockUntilReady()).dispose(), timing);
    a.dispose();
    b.dispose();
    product.dispose();
  }
  return gflops;
}

/**
 * The seed's TestModel's parameters, named as its state_dict, with Wedge's initial weights, and its
 * RoPE tables cut to the sequence: cos, sin [T, D/2].
 */
function initialState(cfg: StepConfig, attnType: AttnType): { params: Record<string, Arr>; cos: Arr; sin: Arr } {
  const { vocab, dModel, nHead, seqLen } = cfg;
  const wedge = new TestModel({ vocab, dModel, nHead, maxLen: seqLen, attnType, generator: new Generator(cfg.seed) });
  const state = wedge.stateDict();
  const params: Record<string, Arr> = {};
  for (const [k, t] of Object.entries(state)) {
    if (!k.includes('rope')) params[k] = f32(Float32Array.from(t.data()), [...t.shape]);
  }
  const table = (name: string): Arr => {
    const t = state[name].slice(0, 0, seqLen - 1);
    return f32(Float32Array.from(t.data()), [...t.shape]);
  };
  return { params, cos: table('attn.rope.cos'), sin: table('attn.rope.sin') };
}

/**
 * One jitted training step: loss and gradients of the seed's model, then PyTorch's Adam
 * (m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − (lr/bc₁)·m / (√v/√bc₂ + ε)).
 * `sched` = [lr/bc₁, √bc₂] for this step, passed as arrays so the step compiles once.
 */
function makeStep(cfg: StepConfig, attnType: AttnType) {
  const { vocab: V, dModel: C, nHead: H } = cfg;
  const D = C / H;
  const T = cfg.seqLen - 1;
  const B = cfg.batch;
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const linear = (x: Arr, w: Arr): Arr => np.matmul(x, w.transpose()); //                     x Wᵀ
  const heads = (x: Arr): Arr => x.reshape([B, T, H, D]).transpose([0, 2, 1, 3]); //         [B, H, T, D]
  // RoPE on interleaved pairs (x[..., 0::2], x[..., 1::2]): a reshape to [..., D/2, 2], as slices with a step are not in jax-js
  const rope = (x: Arr, cos: Arr, sin: Arr): Arr => {
    const pairs = x.reshape([B, H, T, D / 2, 2]);
    const x1 = pairs.ref.slice([], [], [], [], 0); //                                          [B, H, T, D/2]
    const x2 = pairs.slice([], [], [], [], 1);
    return np.concatenate([x1.ref.mul(cos.ref).sub(x2.ref.mul(sin.ref)), x1.mul(sin).add(x2.mul(cos))], -1);
  };
  type K = { cos: Arr; sin: Arr; mask: Arr }; // cos, sin [T, D/2]; mask [T, T]: 0 on and below the diagonal, −∞ above
  const forward = (p: Record<string, Arr>, ids: Arr, k: K): Arr => {
    const h = np.matmul(nn.oneHot(ids, V), p['embed.weight']); //                            [B·T, C] (np.take fails under jit)
    let scores: Arr;
    let v: Arr;
    if (attnType === 'standard') {
      const [q0, k0, v0] = np.split(linear(h, p['attn.qkv.weight']), 3, 1);
      const q = rope(heads(q0), k.cos.ref, k.sin.ref);
      const kk = rope(heads(k0), k.cos, k.sin);
      v = heads(v0);
      scores = np.matmul(q, np.swapaxes(kk, -2, -1)).mul(1 / Math.sqrt(D)); //               [B, H, T, T]
    } else {
      const q = rope(heads(linear(h.ref, p['attn.W_q.weight'])), k.cos.ref, k.sin.ref);
      const kk = rope(heads(linear(h.ref, p['attn.W_k.weight'])), k.cos.ref, k.sin.ref);
      const r = rope(heads(linear(h.ref, p['attn.W_r.weight'])), k.cos, k.sin);
      v = heads(linear(h, p['attn.W_v.weight']));
      const dot = (x: Arr, y: Arr): Arr => np.sum(x.mul(y), -1, { keepdims: true }); //       [B, H, T, 1]
      const dqq = dot(q.ref, q.ref);
      const drr = dot(r.ref, r.ref);
      const drq = dot(r.ref, q.ref);
      const dkk = np.swapaxes(dot(kk.ref, kk.ref), -2, -1); //                                 [B, H, 1, T]
      const kT = np.swapaxes(kk, -2, -1);
      const dqk = np.matmul(q, kT.ref); //                                                     [B, H, T, T]
      const drk = np.matmul(r, kT);
      const det = dqq.ref.mul(dkk.ref).mul(drr.ref)
        .add(dqk.ref.mul(2).mul(drk.ref).mul(drq.ref))
        .sub(dqq.mul(np.square(drk)))
        .sub(dkk.mul(np.square(drq)))
        .sub(drr.mul(np.square(dqk)));
      scores = det.mul(-1 / D ** 1.5); //                                                      −det Gram · d^-1.5
    }
    const attn = nn.softmax(scores.add(k.mask), -1); //                                        [B, H, T, T]
    const y = np.matmul(attn, v).transpose([0, 2, 1, 3]).reshape([B * T, C]); //             [B·T, C]
    const out = linear(y, attnType === 'standard' ? p['attn.o.weight'] : p['attn.W_o.weight']);
    return linear(out, p['unembed.weight']); //                                                [B·T, V]
  };
  const lossFn = (p: Record<string, Arr>, ids: Arr, targets: Arr, k: K): Arr =>
    np.mean(np.sum(nn.oneHot(targets, V).mul(nn.logSoftmax(forward(p, ids, k), -1)), -1)).mul(-1);
  const step = jit((p: Record<string, Arr>, m: Record<string, Arr>, v: Record<string, Arr>, ids: Arr, targets: Arr, k: K, sched: Arr) => {
    const [loss, grads] = valueAndGrad(lossFn)(jax.tree.ref(p), ids, targets, k) as [Arr, Record<string, Arr>];
    const stepSize = sched.ref.slice(0);
    const sqrtBc2 = sched.slice(1);
    const names = Object.keys(grads);
    const out = { p: {} as Record<string, Arr>, m: {} as Record<string, Arr>, v: {} as Record<string, Arr> };
    names.forEach((name, i) => {
      const g = grads[name];
      const m1 = m[name].mul(beta1).add(g.ref.mul(1 - beta1));
      const v1 = v[name].mul(beta2).add(np.square(g).mul(1 - beta2));
      const last = i === names.length - 1;
      const denom = np.sqrt(v1.ref).div(last ? sqrtBc2 : sqrtBc2.ref).add(eps);
      out.p[name] = p[name].sub(m1.ref.mul(last ? stepSize : stepSize.ref).div(denom));
      out.m[name] = m1;
      out.v[name] = v1;
    });
    return { ...out, loss };
  });
  return { step, T, B };
}

async function stepJob(cfg: StepConfig, attnType: AttnType): Promise<StepTiming> {
  const { step, T, B } = makeStep(cfg, attnType);
  const init = initialState(cfg, attnType);
  let p = init.params;
  let m = Object.fromEntries(Object.entries(p).map(([k, x]) => [k, np.zerosLike(x.ref)]));
  let v = Object.fromEntries(Object.entries(p).map(([k, x]) => [k, np.zerosLike(x.ref)]));
  const mask = Array.from({ length: T * T }, (_, n) => (n % T > Math.floor(n / T) ? -Infinity : 0));
  const k = { cos: init.cos, sin: init.sin, mask: f32(mask, [T, T]) };
  const g = new Generator(cfg.seed + 1);
  const data = Array.from({ length: cfg.warmup + cfg.steps }, () => generateCopyBatch(B, cfg.seqLen, cfg.vocab, g));
  const timing = await timeSteps(cfg, async (i) => {
    const [x, y] = data[i];
    const ids = f32(Int32Array.from(x.data()), [B * T], np.int32);
    const targets = f32(Int32Array.from(y.data()), [B * T], np.int32);
    const t = i + 1;
    const sched = f32([cfg.lr / (1 - 0.9 ** t), Math.sqrt(1 - 0.999 ** t)], [2]);
    const out = step(p, m, v, ids, targets, { cos: k.cos.ref, sin: k.sin.ref, mask: k.mask.ref }, sched) as any;
    ({ p, m, v } = out);
    const loss = (await (out.loss as Arr).data())[0];
    return loss;
  });
  jax.tree.dispose([p, m, v, k] as any);
  step.dispose();
  return timing;
}

if (job.task === 'matmul') {
  report({ name: 'jax-js', detail: `@jax-js/jax ${await version()}, ${detail}`, gflops: await matmulJob(job.cases, job.timing) });
} else {
  const steps: Record<string, StepTiming> = {};
  for (const cfg of job.configs) for (const a of job.attns) steps[stepKey(cfg, a)] = await stepJob(cfg, a);
  report({ name: 'jax-js', detail: `@jax-js/jax ${await version()}, ${detail}, jit over forward + backward + Adam`, steps });
}
process.exit(0); // ends the shim's workers too

async function version(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { readFileSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const main = createRequire(import.meta.url).resolve('@jax-js/jax'); // …/dist/index.cjs (package.json is not exported)
  return (JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
}
