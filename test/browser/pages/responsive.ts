// Test harness around train_worker.ts: how long the page's main thread goes without running a
// timer while the worker trains, and whether 'stop' reaches the worker between steps.
const worker = new Worker('/train_worker.js', { type: 'module' });
const g = globalThis as { __result?: unknown; __error?: string };
const losses: number[] = [];
let last = performance.now();
let maxGapMs = 0;
const timer = setInterval(() => {
  const now = performance.now();
  maxGapMs = Math.max(maxGapMs, now - last);
  last = now;
}, 5);

worker.onerror = (e) => (g.__error = `worker: ${e.message}`);
worker.onmessage = (e: MessageEvent<{ type: 'progress'; loss: number } | { type: 'done'; stopped: boolean }>) => {
  if (e.data.type === 'progress') {
    losses.push(e.data.loss);
    if (losses.length === 25) worker.postMessage({ type: 'stop' });
    return;
  }
  clearInterval(timer);
  g.__result = { steps: losses.length, first: losses[0], last: losses[losses.length - 1], stopped: e.data.stopped, maxGapMs };
};
worker.postMessage({ type: 'start', steps: 1000, gpu: false });
