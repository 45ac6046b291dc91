// A worker thread of the study: runs the jobs the main thread sends, one at a time, and posts
// their events, results and failures back.
import { parentPort } from 'node:worker_threads';
import { type JobSpec, failureOf, runJob } from './job.ts';

const port = parentPort!;
port.on('message', (spec: JobSpec) => {
  try {
    const result = runJob(spec, (event) => port.postMessage({ type: 'event', event }));
    port.postMessage({ type: 'done', result });
  } catch (e) {
    port.postMessage({ type: 'failed', failure: failureOf(spec, e) });
  }
});
