// Progress display while training: one status line redrawn in place on a TTY (every running job's
// step, loss and copy accuracy), plain per-eval lines otherwise (CI logs), nothing with --quiet.
import type { EvalPoint } from '@wedge/models';

export interface Progress {
  step(job: string, step: number, steps: number, loss: number, copyAccuracy: number): void;
  eval(job: string, point: EvalPoint, steps: number): void;
  /** A job moved on to a phase after training (the probe, the longer lengths). */
  phase(job: string, phase: string): void;
  /** A job has finished (trained, probed, saved). */
  done(job: string, copyAccuracy: number): void;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** One line for all jobs, redrawn at most every 100 ms, on `stream`. */
function ttyProgress(stream: NodeJS.WriteStream): Progress {
  const jobs = new Map<string, string>(); // the running ones
  let finished = 0;
  let last = 0;
  const draw = (force: boolean): void => {
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    const line = [...(finished > 0 ? [`${finished} done`] : []), ...[...jobs].map(([job, s]) => `${job} ${s}`)].join(' · ');
    const width = stream.columns || 120; // a pty may report 0 columns
    stream.write(`\r${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}\x1b[K`);
  };
  return {
    step: (job, step, steps, loss, acc) => {
      jobs.set(job, `${step}/${steps} loss ${loss.toFixed(3)} copy ${pct(acc)}`);
      draw(false);
    },
    eval: () => {},
    phase: (job, phase) => {
      jobs.set(job, phase);
      draw(true);
    },
    done: (job) => {
      jobs.delete(job);
      finished++;
      draw(true);
    },
  };
}

/** One line per evaluation, for logs. */
function lineProgress(stream: NodeJS.WriteStream): Progress {
  return {
    step: () => {},
    eval: (job, p, steps) =>
      stream.write(
        `${job.padEnd(8)} step ${String(p.step).padStart(String(steps).length)}/${steps}` +
          `  train ${p.trainLoss === null ? '   -  ' : p.trainLoss.toFixed(4)}  eval ${p.evalLoss.toFixed(4)}` +
          `  copy ${pct(p.copyAccuracy).padStart(6)}  ${(p.elapsedMs / 1000).toFixed(1)} s\n`,
      ),
    phase: (job, phase) => stream.write(`${job.padEnd(8)} ${phase}\n`),
    done: () => {},
  };
}

const silent: Progress = { step: () => {}, eval: () => {}, phase: () => {}, done: () => {} };

/**
 * The display that fits: a status line on a TTY, lines otherwise, nothing when quiet.
 * @example const p = makeProgress(false); p.eval('standard', point, 250);
 */
export function makeProgress(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (quiet) return silent;
  return stream.isTTY ? ttyProgress(stream) : lineProgress(stream);
}
