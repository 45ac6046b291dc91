// The end-of-run report: the side-by-side summary table and the run's metadata for results.json.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { ComparisonResult, ModelResult } from '@wedge/models';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/**
 * One row per metric, one column per model.
 * @example console.log(summaryTable(result))
 */
export function summaryTable(result: ComparisonResult): string {
  const ms = result.models;
  const rows: [string, (m: ModelResult) => string][] = [
    ['parameters', (m) => m.parameters.toLocaleString('en-US')],
    ['final train loss', (m) => m.final.trainLoss?.toFixed(4) ?? '-'],
    ['final eval loss', (m) => m.final.evalLoss.toFixed(4)],
    [`loss floor`, () => result.lossFloor.toFixed(4)],
    ['copy accuracy (eval)', (m) => pct(m.final.copyAccuracy)],
    ['first step ≥ 99% copy', (m) => (m.stepsTo99 === null ? `not in ${result.config.steps}` : String(m.stepsTo99))],
    ['step time (median)', (m) => `${m.stepMs.median.toFixed(1)} ms`],
    ['step time (mean)', (m) => `${m.stepMs.mean.toFixed(1)} ms`],
    ['training time', (m) => `${(m.final.elapsedMs / 1000).toFixed(1)} s`],
  ];
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const cells = rows.map(([k, f]) => [k, ...ms.map(f)]);
  const widths = ms.map((m, i) => Math.max(m.attnType.length, ...cells.map((c) => c[i + 1].length)));
  const line = (c: string[]): string => [c[0].padEnd(w0), ...c.slice(1).map((v, i) => v.padStart(widths[i]))].join('   ');
  const header = line(['', ...ms.map((m) => m.attnType)]);
  return [header, '-'.repeat(header.length), ...cells.map(line)].join('\n');
}

/** The git commit of the checkout (with '-dirty' when files differ), or 'unknown'. */
export function gitCommit(cwd: string): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** Version of a workspace package, read from its package.json. */
function versionOf(url: URL): string {
  try {
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What ran this: versions, machine, commit. */
export function runInfo(repoRoot: string): Record<string, unknown> {
  return {
    versions: {
      '@wedge/core': versionOf(new URL('../../packages/core/package.json', import.meta.url)),
      '@wedge/models': versionOf(new URL('../../packages/models/package.json', import.meta.url)),
      node: process.version,
    },
    commit: gitCommit(repoRoot),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}` },
  };
}
