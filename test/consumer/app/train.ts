// A consumer of the packed packages, as a user would write it: train a small copy-task model with
// Adam, save and reload its weights, run one product through the gpu.js backend (its cpu mode, so no
// GL is needed), and print a JSON summary. Type-checked under a default `tsc --init` config, run
// with plain `node` (as app.mjs, the same code with the types stripped) and bundled for a browser.
import {
  Adam, Generator, Tensor, crossEntropy, decodeSafetensors, encodeSafetensors, getBackend, matmul, noGrad, randn, setBackend,
} from '@wedge/core';
import { TestModel, generateCopyBatch, type TestModelConfig } from '@wedge/models';
import { gpuInfo, useGpu } from '@wedge/gpu';

export interface Summary {
  /** The backend that trained: core's default CPU engine (the wasm backend where WebAssembly SIMD runs). */
  backend: string;
  first: number;
  last: number;
  steps: number;
  reloadedSame: boolean;
  gpuMode: string | null;
  gpuMatchesCpu: boolean;
}

export function train(steps = 80): Summary {
  const backend = getBackend().name;
  const config: TestModelConfig = { vocab: 8, dModel: 16, nHead: 2, maxLen: 16, attnType: 'standard', generator: new Generator(0) };
  const model = new TestModel(config);
  const opt = new Adam(model.parameters(), { lr: 1e-2 });
  const g = new Generator(1);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [input, target] = generateCopyBatch(4, 12, config.vocab, g); // [B, T] each
    const logits: Tensor = model.forward(input); // [B, T, V]
    const loss = crossEntropy(logits.reshape([-1, config.vocab]), target.reshape([-1]));
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  // weights out to bytes and back into a fresh model (what a browser does with a file download)
  const bytes: Uint8Array = encodeSafetensors(model.stateDict(), { steps: String(steps) });
  const copy = new TestModel({ ...config, generator: new Generator(99) });
  copy.loadStateDict(decodeSafetensors(bytes).tensors);
  const [input] = generateCopyBatch(2, 12, config.vocab, new Generator(5));
  const a = noGrad(() => model.forward(input)).data();
  const b = noGrad(() => copy.forward(input)).data();
  const reloadedSame = a.every((v, i) => v === b[i]);

  const x = randn([8, 8], { generator: new Generator(3) });
  const onCpu = matmul(x, x).data();
  const ok = useGpu({ mode: 'cpu', quiet: true, cpuHandoffSize: 0 });
  const onGpu = matmul(x, x).data();
  const gpuMode = ok ? gpuInfo()?.mode ?? null : null;
  setBackend(backend);
  const gpuMatchesCpu = onGpu.every((v, i) => Math.abs(v - (onCpu[i] ?? NaN)) <= 1e-5 * (1 + Math.abs(v)));
  return { backend, first: losses[0] ?? NaN, last: losses[losses.length - 1] ?? NaN, steps, reloadedSame, gpuMode, gpuMatchesCpu };
}
