// The tables of docs/findings.md, made from a study's results.json, so the doc's numbers are the
// file's. `node --import tsx examples/copy_task/findings_tables.ts DOC.md` rewrites every block
// marked <!-- table:NAME FILE --> … <!-- /table --> from FILE (relative to the doc);
// test/examples/findings_doc.test.ts checks that the committed doc matches its files.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)} %`;
const interval = (c: [number, number] | null, f: (x: number) => string): string => (c === null ? '–' : `[${f(c[0])}, ${f(c[1])}]`);
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
const table = (header: string[], align: string[], rows: string[][]): string =>
  [row(header), row(align), ...rows.map(row)].join('\n');

/** Per model: steps to 99 %, final held-out loss, final copy accuracy (mean, 95 % interval, n), and the paired difference. */
function summary(r: Json): string {
  const models = r.config.attnTypes as string[];
  const steps = (s: Json): string => (s.mean === null ? '–' : `${s.mean.toFixed(1)} ${interval(s.ci95, (x) => x.toFixed(1))}`);
  const reach = (s: Json): string => `${s.n} of ${s.n + s.notReached}`;
  const rows = [
    ['first step ≥ 99 % copy accuracy', ...models.map((m) => steps(r.summary[m].stepsTo99)), r.difference ? steps(r.difference.stepsTo99) : ''],
    ['seeds that reached 99 %', ...models.map((m) => reach(r.summary[m].stepsTo99)), ''],
    ['final held-out loss', ...models.map((m) => `${r.summary[m].finalEvalLoss.mean.toFixed(4)} ${interval(r.summary[m].finalEvalLoss.ci95, (x) => x.toFixed(4))}`),
      r.difference ? `${r.difference.finalEvalLoss.mean.toFixed(4)} ${interval(r.difference.finalEvalLoss.ci95, (x) => x.toFixed(4))}` : ''],
    ['final copy accuracy', ...models.map((m) => `${pct(r.summary[m].finalCopyAccuracy.mean)} ${interval(r.summary[m].finalCopyAccuracy.ci95, (x) => pct(x))}`),
      r.difference ? `${(100 * r.difference.finalCopyAccuracy.mean).toFixed(1)} pp ${interval(r.difference.finalCopyAccuracy.ci95, (x) => `${(100 * x).toFixed(1)} pp`)}` : ''],
  ];
  return table(['mean [95 % interval], n = ' + r.seeds.length + ' seeds', ...models, 'triple − standard (paired by seed)'], [':--', ...models.map(() => '--:'), '--:'], rows);
}

/** Per seed: steps to 99 % and final copy accuracy of each model (the spread behind the means). */
function perSeed(r: Json): string {
  const models = r.config.attnTypes as string[];
  const get = (m: string, seed: number): Json => r.models.find((x: Json) => x.attnType === m && x.seed === seed);
  return table(
    ['seed', ...models.flatMap((m) => [`${m}: steps to 99 %`, `${m}: final copy acc.`])],
    ['--:', ...models.flatMap(() => ['--:', '--:'])],
    (r.seeds as number[]).map((s) => [String(s), ...models.flatMap((m) => [String(get(m, s).stepsTo99 ?? `not in ${r.config.steps}`), pct(get(m, s).final.copyAccuracy)])]),
  );
}

/** The loud-key probe: per magnitude, per model, the captured attention mass and the copy accuracy. */
function probe(r: Json): string {
  const models = Object.keys(r.probe);
  const rows = [0, ...r.probe[models[0]].map((p: Json) => p.magnitude)].map((m: number) => {
    const pick = (a: string): Json => (m === 0 ? r.probeBaseline[a] : r.probe[a].find((p: Json) => p.magnitude === m));
    return [
      m === 0 ? '0 (unperturbed)' : String(m),
      ...models.flatMap((a) => [`${pct(pick(a).attentionMass, 2)} ${interval(pick(a).attentionMassCi95, (x) => pct(x, 2))}`, `${pct(pick(a).copyAccuracy)} ${interval(pick(a).copyAccuracyCi95, (x) => pct(x))}`]),
    ];
  });
  return table(['m', ...models.flatMap((a) => [`${a}: attention on the loud key`, `${a}: copy accuracy`])], ['--:', ...models.flatMap(() => ['--:', '--:'])], rows);
}

/** Length generalisation: copy accuracy per evaluated length. */
function lengths(r: Json): string {
  const models = Object.keys(r.lengths);
  return table(
    ['seq_len', ...models.map((a) => `${a}: copy accuracy`)],
    ['--:', ...models.map(() => '--:')],
    r.lengths[models[0]].map((l: Json, i: number) => [String(l.seqLen) + (i === 0 ? ' (training)' : ''), ...models.map((a) => `${pct(r.lengths[a][i].copyAccuracy)} ${interval(r.lengths[a][i].copyAccuracyCi95, (x) => pct(x))}`)]),
  );
}

/** Every table by name. */
export const FINDINGS_TABLES: Record<string, (r: Json) => string> = { summary, perSeed, probe, lengths };

const BLOCK = /<!-- table:(\w+) (\S+) -->\n[\s\S]*?<!-- \/table -->/g;

/**
 * The doc with every marked table rebuilt from its results file.
 * @example writeFileSync(doc, renderFindings(readFileSync(doc, 'utf8'), dirname(doc)))
 */
export function renderFindings(doc: string, docDir: string): string {
  return doc.replace(BLOCK, (_all, name: string, file: string) => {
    const make = FINDINGS_TABLES[name];
    if (!make) throw new Error(`findings: unknown table '${name}'`);
    const results = JSON.parse(readFileSync(join(docDir, file), 'utf8')) as Json;
    return `<!-- table:${name} ${file} -->\n${make(results)}\n<!-- /table -->`;
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const doc = process.argv[2];
  writeFileSync(doc, renderFindings(readFileSync(doc, 'utf8'), dirname(doc)));
}
