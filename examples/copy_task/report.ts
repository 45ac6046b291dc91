// The end-of-run report: the side-by-side summary table and the run's metadata for results.json.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { AttnType } from '@wedge/models';
import type { JobResult } from './job.ts';
import type { LengthSummaryRow, MeanCi, ModelSummary, ProbeSummaryRow, pairedDifference } from './study.ts';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** A table: the first column left-aligned, the rest right-aligned, a rule under the header. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[0]) : v.padStart(widths[i]))).join('   ');
  const head = line(header);
  return [head, '-'.repeat(head.length), ...rows.map(line)].join('\n');
}

/**
 * One row per metric, one column per model (one seed per model).
 * @example console.log(summaryTable(results, { steps: 250, lossFloor: 1.364 }))
 */
export function summaryTable(results: readonly JobResult[], o: { steps: number; lossFloor: number }): string {
  const rows: [string, (m: JobResult) => string][] = [
    ['parameters', (m) => m.parameters.toLocaleString('en-US')],
    ['final train loss', (m) => m.final.trainLoss?.toFixed(4) ?? '-'],
    ['final eval loss', (m) => m.final.evalLoss.toFixed(4)],
    [`loss floor`, () => o.lossFloor.toFixed(4)],
    ['copy accuracy (eval)', (m) => pct(m.final.copyAccuracy)],
    ['first step ≥ 99% copy', (m) => (m.stepsTo99 === null ? `not in ${o.steps}` : String(m.stepsTo99))],
    ['step time (median)', (m) => `${m.stepMs.median.toFixed(1)} ms`],
    ['step time (mean)', (m) => `${m.stepMs.mean.toFixed(1)} ms`],
    ['training time', (m) => `${(m.final.elapsedMs / 1000).toFixed(1)} s`],
    ['backend', (m) => m.backend ?? '-'], // results of runs before this field: none
  ];
  return table(['', ...results.map((m) => m.attnType)], rows.map(([k, f]) => [k, ...results.map(f)]));
}

const ci = (c: MeanCi, f: (x: number) => string): string => (c.mean === null ? '-' : c.ci95 === null ? f(c.mean) : `${f(c.mean)} [${f(c.ci95[0])}, ${f(c.ci95[1])}]`);

/**
 * Several seeds: per model the mean and 95 % Student-t interval of each headline metric, and the
 * paired difference triple − standard.
 * @example console.log(studyTable(summary, difference, 250))
 */
export function studyTable(summary: Partial<Record<AttnType, ModelSummary>>, difference: ReturnType<typeof pairedDifference>, steps: number): string {
  const models = Object.keys(summary) as AttnType[];
  const header = ['mean [95% interval]', ...models, ...(difference ? ['triple − standard (paired)'] : [])];
  const reach = (s: ModelSummary): string => (s.stepsTo99.notReached > 0 ? ` (${s.stepsTo99.n} of ${s.seeds.length} reached it in ${steps})` : '');
  const rows = [
    ['seeds', ...models.map((m) => summary[m]!.seeds.join(', ')), ...(difference ? [''] : [])],
    ['first step ≥ 99% copy', ...models.map((m) => ci(summary[m]!.stepsTo99, (x) => x.toFixed(0)) + reach(summary[m]!)), ...(difference ? [ci(difference.stepsTo99, (x) => x.toFixed(0))] : [])],
    ['final eval loss', ...models.map((m) => ci(summary[m]!.finalEvalLoss, (x) => x.toFixed(4))), ...(difference ? [ci(difference.finalEvalLoss, (x) => x.toFixed(4))] : [])],
    ['final copy accuracy', ...models.map((m) => ci(summary[m]!.finalCopyAccuracy, pct)), ...(difference ? [ci(difference.finalCopyAccuracy, (x) => `${(100 * x).toFixed(1)} pp`)] : [])],
  ];
  return table(header, rows);
}

/**
 * The loud-key probe across seeds: captured attention and copy accuracy per magnitude and model.
 * @example console.log(probeTable(probe, baseline))
 */
export function probeTable(probe: Partial<Record<AttnType, ProbeSummaryRow[]>>, baseline: Partial<Record<AttnType, ProbeSummaryRow>>): string {
  const models = Object.keys(probe) as AttnType[];
  const mags = [0, ...probe[models[0]]!.map((r) => r.magnitude)];
  const row = (m: AttnType, mag: number): ProbeSummaryRow => (mag === 0 ? baseline[m]! : probe[m]!.find((r) => r.magnitude === mag)!);
  const mass = (r: ProbeSummaryRow): string => ci({ mean: r.attentionMass, ci95: r.attentionMassCi95, n: r.n, sd: null }, (x) => `${(100 * x).toFixed(2)}%`);
  const acc = (r: ProbeSummaryRow): string => ci({ mean: r.copyAccuracy, ci95: r.copyAccuracyCi95, n: r.n, sd: null }, pct);
  return table(
    ['m', ...models.flatMap((m) => [`${m}: mass on loud key`, `${m}: copy acc.`])],
    mags.map((mag) => [mag === 0 ? '0 (none)' : String(mag), ...models.flatMap((m) => [mass(row(m, mag)), acc(row(m, mag))])]),
  );
}

/**
 * Copy accuracy at each evaluated length, per model.
 * @example console.log(lengthsTable(lengths))
 */
export function lengthsTable(lengths: Partial<Record<AttnType, LengthSummaryRow[]>>): string {
  const models = Object.keys(lengths) as AttnType[];
  return table(
    ['seq_len', ...models.map((m) => `${m}: copy acc.`)],
    lengths[models[0]]!.map((r, i) => [String(r.seqLen), ...models.map((m) => ci({ mean: lengths[m]![i].copyAccuracy, ci95: lengths[m]![i].copyAccuracyCi95, n: 0, sd: null }, pct))]),
  );
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
