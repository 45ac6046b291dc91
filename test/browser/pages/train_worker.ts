// train_worker.ts: trains in a Web Worker, so the page never freezes. Each step ends with an async
// read of the loss (itemAsync), where the worker takes the page's messages (here: 'stop').
import { Adam, Generator, crossEntropy, tidy } from '@wedge/core';
import { TestModel, generateCopyBatch } from '@wedge/models';
import { useGpu } from '@wedge/gpu';

type Command = { type: 'start'; steps: number; gpu: boolean } | { type: 'stop' };
let stop = false;

self.onmessage = async (e: MessageEvent<Command>) => {
  if (e.data.type === 'stop') return void (stop = true);
  const onGpu = e.data.gpu && useGpu(); // WebGL2 through OffscreenCanvas; false: stays on the CPU
  const model = new TestModel({ vocab: 8, dModel: 32, nHead: 2, maxLen: 32, attnType: 'standard', generator: new Generator(0) });
  const opt = new Adam(model.parameters(), { lr: 1e-2 });
  const g = new Generator(1);
  for (let step = 1; step <= e.data.steps && !stop; step++) {
    const [inputs, targets] = generateCopyBatch(8, 24, 8, g); // [B, T] each
    const loss = tidy(() => {
      // everything but the returned loss is freed at the end of the step (GPU memory too)
      opt.zeroGrad();
      const l = crossEntropy(model.forward(inputs).reshape([-1, 8]), targets.reshape([-1]));
      l.backward();
      opt.step();
      return l;
    });
    const value = await loss.itemAsync(); // yields: pending messages ('stop') run here
    loss.dispose();
    self.postMessage({ type: 'progress', step, loss: value, onGpu });
  }
  self.postMessage({ type: 'done', stopped: stop });
};
