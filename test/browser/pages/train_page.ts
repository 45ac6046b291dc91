// train_page.ts: the page side. It starts the worker, shows progress, and stays responsive.
const worker = new Worker(new URL('./train_worker.js', import.meta.url), { type: 'module' });
const status = document.createElement('p');
document.body.append(status);

worker.onmessage = (e: MessageEvent<{ type: 'progress'; step: number; loss: number } | { type: 'done'; stopped: boolean }>) => {
  if (e.data.type === 'progress') status.textContent = `step ${e.data.step}: loss ${e.data.loss.toFixed(3)}`;
  else status.textContent += e.data.stopped ? ' (stopped)' : ' (done)';
};
worker.postMessage({ type: 'start', steps: 100, gpu: false }); // gpu: true trains through WebGL2 (pays off for large models)
document.querySelector('#stop')?.addEventListener('click', () => worker.postMessage({ type: 'stop' }));
