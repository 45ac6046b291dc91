// One training step (forward, backward, Adam) of the seed's model at the copy task's default config,
// for both attentions: Wedge beside PyTorch (the seed's own code, same run, when python3-torch is
// installed) and beside TensorFlow.js's wasm backend running the same model.
// Run: pnpm --filter bench train-step [--steps N] [--warmup N] [--no-torch] [--no-tfjs] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Adam, Generator, type Tensor, crossEntropy, getBackend, noGrad } from '@wedge/core';
import { type AttnType, TestModel, generateCopyBatch, trainStep } from '@wedge/models';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = { vocab: 16, dModel: 64, nHead: 4, seqLen: 64, batch: 32, lr: 1e-3, seed: 0 };
const ATTNS: AttnType[] = ['standard', 'triple'];

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    'no-torch': { type: 'boolean', default: false },
    'no-tfjs': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const STEPS = Number(args.steps);
const WARMUP = Number(args.warmup);

interface Timing {
  median: number;
  mean: number;
  min: number;
}

function summarize(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, mean: ms.reduce((a, b) => a + b, 0) / ms.length, min: s[0] };
}

/** Batches drawn once, outside the timed region (every framework sees the same token ids). */
function batches(n: number): [Tensor, Tensor][] {
  const g = new Generator(CONFIG.seed + 1);
  return Array.from({ length: n }, () => generateCopyBatch(CONFIG.batch, CONFIG.seqLen, CONFIG.vocab, g));
}

function makeModel(attnType: AttnType): TestModel {
  const { vocab, dModel, nHead, seqLen } = CONFIG;
  return new TestModel({ vocab, dModel, nHead, maxLen: seqLen, attnType, generator: new Generator(CONFIG.seed) });
}

// ---- Wedge ----------------------------------------------------------------------------------------

function timeWedge(attnType: AttnType, data: [Tensor, Tensor][]): Timing {
  const model = makeModel(attnType);
  const opt = new Adam(model.parameters(), { lr: CONFIG.lr });
  const ms: number[] = [];
  data.forEach(([x, y], i) => {
    const t0 = performance.now();
    trainStep(model, opt, x, y);
    if (i >= WARMUP) ms.push(performance.now() - t0);
  });
  return summarize(ms);
}

// ---- PyTorch (the seed's model, spawned) -----------------------------------------------------------

const TORCH_SCRIPT = String.raw`
import json, sys, time
sys.path.insert(0, sys.argv[1])
import torch, torch.nn.functional as F
import models_seed as seed
cfg = json.loads(sys.argv[2]); threads = int(sys.argv[3])
torch.set_num_threads(threads)
out = {}
for attn in ['standard', 'triple']:
    torch.manual_seed(cfg['seed'])
    m = seed.TestModel(cfg['vocab'], cfg['dModel'], cfg['nHead'], cfg['seqLen'], attn)
    opt = torch.optim.Adam(m.parameters(), lr=cfg['lr'])
    g = torch.Generator().manual_seed(cfg['seed'] + 1)
    data = [seed.generate_copy_batch(cfg['batch'], cfg['seqLen'], cfg['vocab'], generator=g) for _ in range(cfg['n'])]
    ms = []
    for i, (x, y) in enumerate(data):
        t0 = time.perf_counter()
        loss = F.cross_entropy(m(x).reshape(-1, cfg['vocab']), y.reshape(-1))
        opt.zero_grad(); loss.backward(); opt.step()
        if i >= cfg['warmup']: ms.append((time.perf_counter() - t0) * 1000)
    out[attn] = ms
print(json.dumps({'torch': torch.__version__, 'ms': out}))
`;

function timeTorch(threads: number): { version: string; timings: Record<AttnType, Timing> } | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  if (probe.status !== 0) return 'skipped: no PyTorch for /usr/bin/python3 (apt-get install python3-torch)';
  const cfg = JSON.stringify({ ...CONFIG, n: WARMUP + STEPS, warmup: WARMUP });
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH_SCRIPT, join(REPO, 'scripts/fixtures'), cfg, String(threads)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').pop()}`;
  const parsed = JSON.parse(r.stdout) as { torch: string; ms: Record<AttnType, number[]> };
  return { version: parsed.torch, timings: { standard: summarize(parsed.ms.standard), triple: summarize(parsed.ms.triple) } };
}

// ---- TensorFlow.js, wasm backend ---------------------------------------------------------------------

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

/** The seed's TestModel in tfjs ops, with Wedge's initial weights (so the first losses must agree). */
function tfjsModel(tf: Tf, wedge: TestModel) {
  const { vocab: V, dModel: C, nHead: H, attnType } = wedge.config;
  const D = C / H;
  const T = CONFIG.seqLen - 1;
  const state = wedge.stateDict();
  const vars: Record<string, Tf> = {};
  for (const [k, t] of Object.entries(state)) {
    if (!k.includes('rope')) vars[k] = tf.variable(tf.tensor(Array.from(t.data()), [...t.shape]), true, `${attnType}.${k}`);
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
  return { vars: Object.values(vars), loss };
}

function timeTfjs(tf: Tf, attnType: AttnType, data: [Tensor, Tensor][]): { timing: Timing; firstLoss: number; wedgeFirstLoss: number } {
  const wedge = makeModel(attnType);
  const model = tfjsModel(tf, wedge);
  const opt = tf.train.adam(CONFIG.lr, 0.9, 0.999, 1e-8);
  const B = CONFIG.batch;
  const ms: number[] = [];
  let firstLoss = NaN;
  data.forEach(([x, y], i) => {
    const ids = tf.tensor2d(Array.from(x.data()), [...x.shape], 'int32');
    const targets = tf.tensor2d(Array.from(y.data()), [...y.shape], 'int32');
    const t0 = performance.now();
    const l = opt.minimize(() => model.loss(ids, targets, B), true, model.vars);
    const value = l.dataSync()[0]; // waits for the step
    if (i >= WARMUP) ms.push(performance.now() - t0);
    if (i === 0) firstLoss = value;
    tf.dispose([l, ids, targets]);
  });
  const [x0, y0] = data[0];
  const wedgeFirstLoss = noGrad(() => crossEntropy(wedge.forward(x0).reshape([-1, CONFIG.vocab]), y0.reshape([-1])).item());
  return { timing: summarize(ms), firstLoss, wedgeFirstLoss };
}

// ---- the run -----------------------------------------------------------------------------------------

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

const fmt = (t: Timing | undefined): string => (t ? `${t.median.toFixed(1)} ms` : '-');

async function main(): Promise<void> {
  const c = CONFIG;
  console.log(`train step: vocab ${c.vocab}, d_model ${c.dModel}, ${c.nHead} heads, seq_len ${c.seqLen}, batch ${c.batch}, Adam lr ${c.lr}, seed ${c.seed}`);
  console.log(`machine: ${cpus()[0]?.model} × ${cpus().length} · node ${process.version} · wedge backend ${getBackend().name} · commit ${commit()}`);
  console.log(`each figure: median of ${STEPS} steps after ${WARMUP} warm-up steps\n`);
  const data = batches(WARMUP + STEPS);

  const wedge: Partial<Record<AttnType, Timing>> = {};
  for (const a of ATTNS) wedge[a] = timeWedge(a, data);

  const torch1 = args['no-torch'] ? 'skipped (--no-torch)' : timeTorch(1);
  const torchN = args['no-torch'] ? 'skipped (--no-torch)' : timeTorch(cpus().length);

  let tfjs: Partial<Record<AttnType, ReturnType<typeof timeTfjs>>> | string = 'skipped (--no-tfjs)';
  let tfInfo = '';
  if (!args['no-tfjs']) {
    const tf = await loadTfjs();
    tfInfo = `tfjs-core ${tf.version_core} wasm (simd ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')})`;
    tfjs = {};
    for (const a of ATTNS) tfjs[a] = timeTfjs(tf, a, data);
  }

  const torchLabel = (t: typeof torch1, n: number): string => (typeof t === 'string' ? `torch ${n}T` : `torch ${t.version} ${n}T`);
  const header = ['model', 'wedge (cpu)', torchLabel(torchN, cpus().length), torchLabel(torch1, 1), 'tfjs-wasm', 'wedge / torch', 'tfjs-wasm / wedge'];
  const rows = ATTNS.map((a) => {
    const w = wedge[a]!;
    const tN = typeof torchN === 'string' ? undefined : torchN.timings[a];
    const t1 = typeof torch1 === 'string' ? undefined : torch1.timings[a];
    const tj = typeof tfjs === 'string' ? undefined : tfjs[a]?.timing;
    return [
      a, fmt(w), fmt(tN), fmt(t1), fmt(tj),
      tN ? `${(w.median / tN.median).toFixed(2)}× (1T: ${t1 ? (w.median / t1.median).toFixed(2) : '-'}×)` : '-',
      tj ? `${(tj.median / w.median).toFixed(2)}×` : '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  rows.forEach((r) => console.log(line(r)));
  if (typeof torch1 === 'string') console.log(`PyTorch: ${torch1}`);
  if (typeof tfjs === 'string') console.log(`tfjs: ${tfjs}`);
  else {
    console.log(`\n${tfInfo}; same model and weights as Wedge: first-step loss`);
    for (const a of ATTNS) {
      const r = tfjs[a]!;
      console.log(`  ${a}: tfjs ${r.firstLoss.toFixed(6)}, wedge ${r.wedgeFirstLoss.toFixed(6)} (|Δ| ${Math.abs(r.firstLoss - r.wedgeFirstLoss).toExponential(1)})`);
    }
  }
  if (args.json) {
    writeFileSync(args.json, JSON.stringify({ config: CONFIG, steps: STEPS, warmup: WARMUP, commit: commit(), machine: cpus()[0]?.model, wedge, torch1, torchN, tfjs }, null, 2));
  }
}

await main();
