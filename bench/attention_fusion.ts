// The fused causalSoftmax against the seed's composite lines (scale → causal mask → softmax) in a
// whole training step of the default model (vocab 16, d_model 64, 4 heads, seq_len 64, batch 32),
// both in one process, alternating rounds so that the machine's load hits both alike.
// Run: pnpm --filter bench exec tsx attention_fusion.ts [wasm|cpu] [threads] [rounds]
import { Adam, Generator, setBackend, setNumThreads } from '@wedge/core';
import { TestModel, generateCopyBatch, trainStep } from '@wedge/models';
import { commit, machine } from './harness.ts';

const backend = process.argv[2] ?? 'wasm';
const threads = Number(process.argv[3] ?? 1);
const ROUNDS = Number(process.argv[4] ?? 4);
const STEPS = 5; // per round and variant
setBackend(backend);
if (backend === 'wasm') setNumThreads(threads);
const m = machine();
console.log(`${m.cpu}, ${m.cores} cores, load ${m.load.map((l) => l.toFixed(1)).join(' ')} · node ${process.version} · commit ${commit()} · backend ${backend}${backend === 'wasm' ? `, ${threads} thread(s)` : ''}`);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const attnType of ['standard', 'triple'] as const) {
  const [inputs, targets] = generateCopyBatch(32, 64, 16, new Generator(1));
  const variants = [false, true].map((fused) => {
    const model = new TestModel({ vocab: 16, dModel: 64, nHead: 4, maxLen: 64, attnType, generator: new Generator(0) });
    model.attn.fuseSoftmax = fused;
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    for (let i = 0; i < 2; i++) trainStep(model, opt, inputs, targets); // warm-up (kernel compiles, heap)
    return { fused, step: () => trainStep(model, opt, inputs, targets), ms: [] as number[] };
  });
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      for (let i = 0; i < STEPS; i++) {
        const t0 = performance.now();
        v.step();
        v.ms.push(performance.now() - t0);
      }
    }
  }
  const [composite, fused] = variants.map((v) => median(v.ms));
  console.log(`${attnType.padEnd(8)} composite ${composite.toFixed(1)} ms/step · fused ${fused.toFixed(1)} ms/step · ${(composite / fused).toFixed(2)}× (median of ${ROUNDS * STEPS} steps each)`);
}
