// Progress display while training: a redrawn bar per model on a TTY, plain per-eval lines
// otherwise (CI logs), nothing with --quiet.
import type { EvalPoint, StepInfo } from '@wedge/models';

export interface Progress {
  step(info: StepInfo): void;
  eval(attnType: string, point: EvalPoint, steps: number): void;
  /** Finish the current model's line. */
  done(): void;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** A bar redrawn in place (at most every 100 ms), on `stream`. */
function ttyProgress(stream: NodeJS.WriteStream): Progress {
  let last = 0;
  let start = 0;
  let current = '';
  const width = 24;
  const draw = (info: StepInfo, force: boolean): void => {
    const now = performance.now();
    if (current !== info.attnType) {
      current = info.attnType;
      start = now - info.stepMs;
    }
    if (!force && now - last < 100) return;
    last = now;
    const filled = Math.round((width * info.step) / info.steps);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const rate = info.step / ((now - start) / 1000);
    const line =
      `${info.attnType.padEnd(8)} ${bar} ${String(info.step).padStart(String(info.steps).length)}/${info.steps}` +
      `  loss ${info.loss.toFixed(4)}  copy ${pct(info.lastEval.copyAccuracy).padStart(6)}  ${rate.toFixed(1)} steps/s`;
    stream.write(`\r${line}\x1b[K`);
  };
  let lastInfo: StepInfo | null = null;
  return {
    step: (info) => {
      lastInfo = info;
      draw(info, info.step === info.steps);
    },
    eval: () => {},
    done: () => {
      if (lastInfo) draw(lastInfo, true);
      stream.write('\n');
      lastInfo = null;
      current = '';
    },
  };
}

/** One line per evaluation, for logs. */
function lineProgress(stream: NodeJS.WriteStream): Progress {
  return {
    step: () => {},
    eval: (attnType, p, steps) =>
      stream.write(
        `${attnType.padEnd(8)} step ${String(p.step).padStart(String(steps).length)}/${steps}` +
          `  train ${p.trainLoss === null ? '   -  ' : p.trainLoss.toFixed(4)}  eval ${p.evalLoss.toFixed(4)}` +
          `  copy ${pct(p.copyAccuracy).padStart(6)}  ${(p.elapsedMs / 1000).toFixed(1)} s\n`,
      ),
    done: () => {},
  };
}

const silent: Progress = { step: () => {}, eval: () => {}, done: () => {} };

/** The display that fits: bars on a TTY, lines otherwise, nothing when quiet. */
export function makeProgress(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (quiet) return silent;
  return stream.isTTY ? ttyProgress(stream) : lineProgress(stream);
}
