// Runs the study's jobs: in worker threads across the cores (one job per worker at a time), or in
// this thread when one worker is asked for or the GPU backend holds the context. A job's numbers
// depend only on its spec, never on the schedule.
import { Worker } from 'node:worker_threads';
import { type JobEvent, type JobFailure, type JobResult, type JobSpec, failureOf, runJob } from './job.ts';

export interface PoolOutcome {
  results: JobResult[];
  failures: JobFailure[];
}

/** Run `specs` on `workers` threads (0: in this thread); results come back in the specs' order. */
export async function runJobs(specs: JobSpec[], workers: number, onEvent: (e: JobEvent) => void): Promise<PoolOutcome> {
  const results: (JobResult | null)[] = specs.map(() => null);
  const failures: JobFailure[] = [];
  if (workers === 0) {
    for (const [i, spec] of specs.entries()) {
      // let pending output flush between jobs
      await new Promise((r) => setImmediate(r));
      try {
        results[i] = runJob(spec, onEvent);
      } catch (e) {
        failures.push(failureOf(spec, e));
      }
    }
    return { results: results.filter((r): r is JobResult => r !== null), failures };
  }
  let next = 0;
  const runWorker = (): Promise<void> =>
    new Promise((resolve) => {
      const w = new Worker(new URL('./worker_boot.mjs', import.meta.url));
      let current = -1;
      const feed = (): void => {
        if (next >= specs.length) {
          void w.terminate().then(() => resolve());
          return;
        }
        current = next++;
        w.postMessage(specs[current]);
      };
      w.on('message', (m: { type: 'event'; event: JobEvent } | { type: 'done'; result: JobResult } | { type: 'failed'; failure: JobFailure }) => {
        if (m.type === 'event') onEvent(m.event);
        else {
          if (m.type === 'done') results[current] = m.result;
          else failures.push(m.failure);
          feed();
        }
      });
      w.on('error', (e) => {
        // the worker died (out of memory, a crash): record its job, and let a fresh worker take the rest
        if (current >= 0 && results[current] === null) failures.push(failureOf(specs[current], e));
        void runWorker().then(resolve);
      });
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(workers, specs.length) }, runWorker));
  for (const [i, spec] of specs.entries()) {
    const reported = results[i] !== null || failures.some((f) => f.attnType === spec.attnType && f.seed === spec.seed);
    if (!reported) failures.push(failureOf(spec, new Error('the job never reported back (its worker stopped)')));
  }
  return { results: results.filter((r): r is JobResult => r !== null), failures };
}

/**
 * How the jobs share the cores: worker threads (0: this thread, one job at a time) and wasm threads
 * per job. The GPU context lives in this thread, so gpu trains here. The wasm engine trains one job
 * at a time on every core by default: on the 2-core machine that was 1.36× faster than a worker per
 * core on one thread each (docs/experiment.md); --jobs N runs N at once and splits the cores.
 * WEDGE_NUM_THREADS, when set, fixes the wasm threads per job.
 * @example schedule('wasm', null, 2, 2) // { workers: 0, threads: 2 }
 */
export function schedule(backend: string, jobs: number | null, specs: number, cores: number, envThreads = process.env.WEDGE_NUM_THREADS): { workers: number; threads: number } {
  const want = backend === 'gpu' ? 1 : (jobs ?? (backend === 'wasm' ? 1 : cores));
  const workers = Math.min(want, specs);
  const fromEnv = Number(envThreads);
  const threads = envThreads !== undefined && Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : Math.max(1, Math.floor(cores / Math.max(1, workers)));
  return { workers: workers <= 1 ? 0 : workers, threads: backend === 'wasm' ? threads : 1 };
}
