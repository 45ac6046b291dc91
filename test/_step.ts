import { Adam, Generator, manualSeed, setBackend, getBackend, setNumThreads, wasmMemory } from '@wedge/core';
import { TestModel, generateCopyBatch, trainStep } from '@wedge/models';
const backend = process.argv[2] ?? 'wasm';
const threads = Number(process.argv[3] ?? 2);
setBackend(backend);
if (backend === 'wasm') setNumThreads(threads);
for (const attn of ['standard', 'triple'] as const) {
  manualSeed(0);
  const model = new TestModel({ vocab: 16, dModel: 64, nHead: 4, maxLen: 64, attnType: attn, generator: new Generator(0) } as any);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const [inputs, targets] = generateCopyBatch(32, 64, 16, new Generator(1));
  const times: number[] = [];
  let loss = 0;
  for (let i = 0; i < 12; i++) { const t0 = performance.now(); loss = trainStep(model, opt, inputs, targets); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  console.log(`${getBackend().name} t${threads} ${attn}: median ${times[6].toFixed(1)} ms  loss ${loss.toFixed(6)}`);
}
if (backend === 'wasm') console.log(wasmMemory().bytesInUse);
