// What the browser tests run, in a page and in a Web Worker. cpuSuite() is deterministic: the test
// runs it in Node too and expects the same numbers. gpuSuite() and wasmSuite() compare the gpu.js
// backend (WebGL2 in the browser) and the WebAssembly backend with the CPU reference on the same inputs.
import {
  Adam, Generator, decodeSafetensors, encodeSafetensors, getBackend, gradcheck, matmul, noGrad, randn, setBackend, softmax, sum,
  WasmStorage, wasmInfo,
} from '@wedge/core';
import { TestModel, generateCopyBatch, trainStep, type AttnType } from '@wedge/models';
import { gpuInfo, useGpu } from '@wedge/gpu';

const SMALL = { vocab: 8, dModel: 16, nHead: 2, maxLen: 16 } as const;

/** Adam steps of the one-layer TestModel on copy batches; the losses. */
function trainLosses(attnType: AttnType, steps: number): number[] {
  const model = new TestModel({ ...SMALL, attnType, generator: new Generator(0) });
  const opt = new Adam(model.parameters(), { lr: 1e-2 });
  const g = new Generator(1);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [inputs, targets] = generateCopyBatch(4, 12, SMALL.vocab, g); // [B, T] each
    losses.push(trainStep(model, opt, inputs, targets));
  }
  return losses;
}

export async function cpuSuite(): Promise<Record<string, unknown>> {
  setBackend('cpu');
  const g = new Generator(0);
  const x = randn([5, 7], { generator: g });
  const w = randn([7, 3], { generator: g, requiresGrad: true });
  const loss = x.matmul(w).softmax(-1).log().mean();
  loss.backward();
  const a = randn([2, 4], { dtype: 'float64', requiresGrad: true, generator: g });
  const bytes = encodeSafetensors({ w }, { where: 'browser' });
  const back = decodeSafetensors(bytes);
  return {
    loss: loss.item(),
    grad: Array.from(w.grad!.data()),
    gradcheck: gradcheck((t) => t.tanh().logSoftmax(-1), [a]),
    safetensors: { bytes: bytes.length, metadata: back.metadata, same: Array.from(back.tensors.w!.data()).every((v, i) => v === w.data()[i]) },
    asyncRead: Array.from(await x.sum(-1).dataAsync()),
    standard: trainLosses('standard', 6),
    triple: trainLosses('triple', 6),
  };
}

/** Largest |gpu - cpu| / (1 + |cpu|) over the values. */
function maxRelDiff(gpu: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i]! - cpu[i]!) / (1 + Math.abs(cpu[i]!)));
  return gpu.length === cpu.length ? worst : Infinity;
}

export async function gpuSuite(): Promise<Record<string, unknown>> {
  const g = new Generator(2);
  const a = randn([64, 48], { generator: g });
  const b = randn([48, 32], { generator: g });
  setBackend('cpu');
  const cpu = { mm: matmul(a, b).data(), sm: softmax(a, -1).data(), sum: sum(a, 0).data(), train: trainLosses('triple', 3) };
  const ok = useGpu({ cpuHandoffSize: 0 });
  if (!ok) return { ok };
  const mode = gpuInfo()?.mode;
  const mm = noGrad(() => matmul(a, b));
  const onGpu = mm.storage.device;
  const gpu = { mm: await mm.dataAsync(), sm: softmax(a, -1).data(), sum: sum(a, 0).data(), train: trainLosses('triple', 3) };
  const launches = gpuInfo()?.launches ?? 0;
  setBackend('cpu');
  return {
    ok,
    mode,
    onGpu,
    launches,
    diff: { mm: maxRelDiff(gpu.mm, cpu.mm), sm: maxRelDiff(gpu.sm, cpu.sm), sum: maxRelDiff(gpu.sum, cpu.sum), train: maxRelDiff(gpu.train, cpu.train) },
  };
}

export async function wasmSuite(): Promise<Record<string, unknown>> {
  const info = wasmInfo();
  if (!info.available) return { info };
  const g = new Generator(4);
  const a = randn([64, 48], { generator: g });
  const b = randn([48, 32], { generator: g });
  setBackend('cpu');
  const cpu = { mm: matmul(a, b).data(), sm: softmax(a, -1).data(), train: trainLosses('triple', 3) };
  setBackend('wasm');
  const mm = matmul(a, b);
  const inWasmMemory = mm.storage instanceof WasmStorage;
  const wasm = { mm: await mm.dataAsync(), sm: softmax(a, -1).data(), train: trainLosses('triple', 3) };
  const backend = getBackend().name;
  setBackend('cpu');
  return {
    info: { available: info.available, threads: wasmInfo().threads },
    backend,
    inWasmMemory,
    diff: { mm: maxRelDiff(wasm.mm, cpu.mm), sm: maxRelDiff(wasm.sm, cpu.sm), train: maxRelDiff(wasm.train, cpu.train) },
  };
}
