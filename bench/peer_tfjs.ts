// TensorFlow.js 4.22 on its `wasm` backend (XNNPACK kernels, SIMD, one thread in Node) as a benchmark
// peer: matmul, and the seed's model in tfjs ops trained with tfjs's Adam, from Wedge's initial weights.
// Spawned by run.ts: tsx peer_tfjs.ts '<job>'
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Generator } from '@wedge/core';
import { type AttnType, TestModel, generateCopyBatch } from '@wedge/models';
import { type MatmulCase, type StepConfig, type StepTiming, flopsOf, parseJob, report, stepKey, timeGflops, timeSteps } from './harness.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Tf = any;

/**
 * tfjs-core registers gradients only from its ES-module build, which Node cannot load as is
 * (extensionless imports); esbuild bundles core, the gradients and the wasm backend into one CJS file.
 */
async function loadTfjs(): Promise<Tf> {
  const { buildSync } = await import('esbuild');
  const out = join(tmpdir(), `wedge-bench-tfjs-${process.pid}.cjs`);
  buildSync({
    stdin: {
      contents:
        "export * from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-core/dist/register_all_gradients';" +
        "export { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';",
      resolveDir: dirname(fileURLToPath(import.meta.url)),
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    outfile: out,
    logLevel: 'error',
  });
  const require = createRequire(import.meta.url);
  const tf = require(out) as Tf;
  tf.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  await tf.setBackend('wasm');
  return tf;
}

const tf = await loadTfjs();
const job = parseJob();
const detail = `tfjs-core ${tf.version_core}, wasm backend (simd ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')})`;

async function matmulJob(cases: MatmulCase[], timing: Parameters<typeof timeGflops>[2]): Promise<Record<string, number>> {
  const gflops: Record<string, number> = {};
  const g = new Generator(0);
  const randn = (shape: number[]): Tf => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => g.nextNormal()), shape);
  for (const c of cases) {
    const lead = c.batch > 1 ? [c.batch] : [];
    // stored as the other peers store them; tfjs reads the transposed operand through matMul's flags
    const a = c.variant === 'aTb' ? randn([...lead, c.K, c.M]) : randn([...lead, c.M, c.K]);
    const b = c.variant === 'abT' ? randn([...lead, c.N, c.K]) : randn([...lead, c.K, c.N]);
    gflops[c.key] = await timeGflops(flopsOf(c), () => tf.matMul(a, b, c.variant === 'aTb', c.variant === 'abT').dispose(), timing);
    tf.dispose([a, b]);
  }
  return gflops;
}

/** The seed's TestModel in tfjs ops, with Wedge's initial weights (so the first losses must agree). */
function tfjsModel(cfg: StepConfig, attnType: AttnType) {
  const { vocab: V, dModel: C, nHead: H, seqLen } = cfg;
  const wedge = new TestModel({ vocab: V, dModel: C, nHead: H, maxLen: seqLen, attnType, generator: new Generator(cfg.seed) });
  const D = C / H;
  const T = seqLen - 1;
  const state = wedge.stateDict();
  const vars: Record<string, Tf> = {};
  for (const [k, t] of Object.entries(state)) {
    if (!k.includes('rope')) vars[k] = tf.variable(tf.tensor(Array.from(t.data()), [...t.shape]), true, `${attnType}.${cfg.name}.${k}`);
  }
  const table = (name: string): Tf => tf.tensor(Array.from(state[name].slice(0, 0, T).data()), [T, D / 2]); // [T, D/2]
  const cos = table('attn.rope.cos');
  const sin = table('attn.rope.sin');
  const maskAdd = tf.tensor2d(Array.from({ length: T * T }, (_, n) => (n % T > Math.floor(n / T) ? -Infinity : 0)), [T, T]); // [T, T]
  const linear = (x: Tf, w: Tf): Tf => tf.matMul(x, w, false, true); //                               x Wᵀ
  const heads = (x: Tf, B: number): Tf => tf.transpose(tf.reshape(x, [B, T, H, D]), [0, 2, 1, 3]); // [B, H, T, D]
  // NOTE: tfjs-wasm has no UnsortedSegmentSum, the gradient of gather: pairs come from a reshape
  // [..., D] → [..., D/2, 2] instead, and the embedding lookup is a one-hot matmul
  const rope = (x: Tf): Tf => {
    const [x1, x2] = tf.unstack(tf.reshape(x, [x.shape[0], H, T, D / 2, 2]), 4); // [B, H, T, D/2] each
    return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x1, sin), tf.mul(x2, cos))], 3);
  };
  const forward = (ids: Tf, B: number): Tf => {
    const h = tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), V), vars['embed.weight']); // [B·T, C]
    let attn: Tf;
    let v: Tf;
    if (attnType === 'standard') {
      const [q0, k0, v0] = tf.split(linear(h, vars['attn.qkv.weight']), 3, 1);
      const q = rope(heads(q0, B));
      const k = rope(heads(k0, B));
      v = heads(v0, B);
      attn = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)); // [B, H, T, T]
    } else {
      const q = rope(heads(linear(h, vars['attn.W_q.weight']), B));
      const k = rope(heads(linear(h, vars['attn.W_k.weight']), B));
      const r = rope(heads(linear(h, vars['attn.W_r.weight']), B));
      v = heads(linear(h, vars['attn.W_v.weight']), B);
      const qq = tf.sum(tf.mul(q, q), -1, true);
      const rr = tf.sum(tf.mul(r, r), -1, true);
      const rq = tf.sum(tf.mul(r, q), -1, true);
      const kk = tf.transpose(tf.sum(tf.mul(k, k), -1, true), [0, 1, 3, 2]);
      const qk = tf.matMul(q, k, false, true);
      const rk = tf.matMul(r, k, false, true);
      const det = tf.addN([
        tf.mul(tf.mul(qq, kk), rr),
        tf.mul(tf.mul(tf.mul(qk, 2), rk), rq),
        tf.neg(tf.mul(qq, tf.square(rk))),
        tf.neg(tf.mul(kk, tf.square(rq))),
        tf.neg(tf.mul(rr, tf.square(qk))),
      ]);
      attn = tf.mul(tf.neg(det), 1 / D ** 1.5);
    }
    const y = tf.matMul(tf.softmax(tf.add(attn, maskAdd)), v); // [B, H, T, D]
    const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, C]);
    const out = linear(merged, attnType === 'standard' ? vars['attn.o.weight'] : vars['attn.W_o.weight']);
    return linear(out, vars['unembed.weight']); // [B·T, V]
  };
  const loss = (ids: Tf, targets: Tf, B: number): Tf =>
    tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.reshape(targets, [-1]), V), tf.logSoftmax(forward(ids, B))), 1)));
  return { vars: Object.values(vars), loss, dispose: () => tf.dispose([...Object.values(vars), cos, sin, maskAdd]) };
}

async function stepJob(cfg: StepConfig, attnType: AttnType): Promise<StepTiming> {
  const model = tfjsModel(cfg, attnType);
  const opt = tf.train.adam(cfg.lr, 0.9, 0.999, 1e-8);
  const g = new Generator(cfg.seed + 1);
  const data = Array.from({ length: cfg.warmup + cfg.steps }, () => {
    const [x, y] = generateCopyBatch(cfg.batch, cfg.seqLen, cfg.vocab, g);
    return [tf.tensor2d(Array.from(x.data()), [...x.shape], 'int32'), tf.tensor2d(Array.from(y.data()), [...y.shape], 'int32')];
  });
  const timing = await timeSteps(cfg, (i) => {
    const [ids, targets] = data[i];
    const l = opt.minimize(() => model.loss(ids, targets, cfg.batch), true, model.vars);
    const value = l.dataSync()[0] as number; // waits for the step
    l.dispose();
    return value;
  });
  tf.dispose(data.flat());
  opt.dispose();
  model.dispose();
  return timing;
}

if (job.task === 'matmul') {
  report({ name: 'tfjs-wasm', detail, gflops: await matmulJob(job.cases, job.timing) });
} else {
  const steps: Record<string, StepTiming> = {};
  for (const cfg of job.configs) for (const a of job.attns) steps[stepKey(cfg, a)] = await stepJob(cfg, a);
  report({ name: 'tfjs-wasm', detail, steps });
}
