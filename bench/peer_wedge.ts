// Wedge as a benchmark peer, one backend per process: `wasm` (@wedge/wasm, n threads) or `cpu`
// (the JS reference backend). Spawned by run.ts: tsx peer_wedge.ts '<job>' --backend wasm --threads 2
import { parseArgs } from 'node:util';
import { Adam, Generator, type Tensor, matmul, randn, setBackend } from '@wedge/core';
import { TestModel, generateCopyBatch, trainStep } from '@wedge/models';
import { type MatmulCase, type StepTiming, flopsOf, parseJob, report, stepKey, timeGflops, timeSteps } from './harness.ts';
import { loadWedgeWasm } from './wedge_wasm.ts';

const { values: opts } = parseArgs({
  args: process.argv.slice(3),
  options: { backend: { type: 'string', default: 'cpu' }, threads: { type: 'string', default: '1' } },
});
const job = parseJob();
const threads = Number(opts.threads);

let detail = 'JS reference backend (setBackend("cpu")), 1 thread';
if (opts.backend === 'wasm') {
  const wasm = await loadWedgeWasm();
  if (typeof wasm === 'string') {
    console.error(wasm);
    process.exit(3); // run.ts reads exit code 3 as "not built"
  }
  detail = wasm.use(threads);
} else {
  setBackend('cpu');
}

function operands(c: MatmulCase, generator: Generator): [Tensor, Tensor] {
  const lead = c.batch > 1 ? [c.batch] : [];
  const a = c.variant === 'aTb' ? randn([...lead, c.K, c.M], { generator }).mT : randn([...lead, c.M, c.K], { generator });
  const b = c.variant === 'abT' ? randn([...lead, c.N, c.K], { generator }).mT : randn([...lead, c.K, c.N], { generator });
  return [a, b];
}

if (job.task === 'matmul') {
  const gflops: Record<string, number> = {};
  const generator = new Generator(0);
  for (const c of job.cases) {
    const [a, b] = operands(c, generator); // no grad: inputs do not require it
    gflops[c.key] = await timeGflops(flopsOf(c), () => matmul(a, b).dispose(), job.timing);
    a.dispose();
    b.dispose();
  }
  report({ name: `Wedge ${opts.backend}`, detail, gflops });
} else {
  const steps: Record<string, StepTiming> = {};
  for (const cfg of job.configs) {
    for (const attnType of job.attns) {
      const { vocab, dModel, nHead, seqLen } = cfg;
      const model = new TestModel({ vocab, dModel, nHead, maxLen: seqLen, attnType, generator: new Generator(cfg.seed) });
      const opt = new Adam(model.parameters(), { lr: cfg.lr });
      const g = new Generator(cfg.seed + 1);
      // batches drawn outside the timed region
      const data = Array.from({ length: cfg.warmup + cfg.steps }, () => generateCopyBatch(cfg.batch, seqLen, vocab, g));
      steps[stepKey(cfg, attnType)] = await timeSteps(cfg, (i) => trainStep(model, opt, data[i][0], data[i][1]));
    }
  }
  report({ name: `Wedge ${opts.backend}`, detail, steps });
}
