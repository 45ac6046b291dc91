import { Adam, Generator, logKernels, setBackend } from '@wedge/core';
import { TestModel, generateCopyBatch, trainStep } from '@wedge/models';
setBackend('wasm');
for (const attn of ['standard', 'triple'] as const) {
  const model = new TestModel({ vocab: 16, dModel: 64, nHead: 4, maxLen: 64, attnType: attn, generator: new Generator(0) } as any);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const [inputs, targets] = generateCopyBatch(32, 64, 16, new Generator(1));
  trainStep(model, opt, inputs, targets);
  const counts = new Map<string, number>();
  logKernels((k, b, why) => { const key = `${k}@${b}${b === 'cpu' ? ' ' + (why ?? '') : ''}`; counts.set(key, (counts.get(key) ?? 0) + 1); });
  trainStep(model, opt, inputs, targets);
  logKernels(null);
  console.log(attn, [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`).join('\n  '));
}
