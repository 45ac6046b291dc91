// The experiment: the seed's one-layer model with standard vs triple-product attention on the copy
// task, trained side by side (from several seeds in parallel with --seeds), with the loud-key
// probe and longer lengths on request. `pnpm --filter examples copy-task --help` lists the flags.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, WedgeError, getBackend, wasmInfo } from '@wedge/core';
import { loadSafetensors } from '@wedge/core/node';
import { type AttnType, TestModel, evenSeqLen, formatResilienceTable, lossFloor, resilienceTable } from '@wedge/models';
import { type CliOptions, HELP, UsageError, checkSizes, parseCli } from './copy_task/args.ts';
import { type JobEvent, type JobResult, type JobSpec, engineLabel, jobId } from './copy_task/job.ts';
import { findResumable, fsReason, prepareOutput, publish } from './copy_task/outputs.ts';
import { curvesSpec, lengthsSpec, probeSpec, render } from './copy_task/plot.ts';
import { runJobs, schedule } from './copy_task/pool.ts';
import { makeProgress } from './copy_task/progress.ts';
import { lengthsTable, probeTable, runInfo, studyTable, summaryTable } from './copy_task/report.ts';
import { pairedDifference, summarize, summarizeLengths, summarizeProbe } from './copy_task/study.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// pnpm runs scripts in the package's folder; INIT_CWD is where the user typed the command
const USER_CWD = process.env.INIT_CWD ?? process.cwd();

/** A run that ended without every result: the message is printed as is, exit status 1. */
class RunError extends Error {}

/** Which attention type a state dict holds, from its keys. */
function attnTypeOf(dict: Record<string, Tensor>, file: string): AttnType {
  if ('attn.qkv.weight' in dict) return 'standard';
  if ('attn.W_q.weight' in dict) return 'triple';
  throw new UsageError(`--init ${file}: not a TestModel checkpoint (no 'attn.qkv.weight' or 'attn.W_q.weight')`);
}

/** The RoPE table length: the --init checkpoints', else long enough for training and every --eval-lengths. */
function maxLenFor(opts: CliOptions, fromInit: number | undefined): number {
  const needed = Math.max(evenSeqLen(opts.seqLen), ...opts.evalLengths.map(evenSeqLen));
  if (fromInit === undefined) return needed;
  const longest = Math.max(opts.seqLen, ...opts.evalLengths);
  if (fromInit < evenSeqLen(longest) - 1) {
    throw new UsageError(`--init: the checkpoints' RoPE tables have ${fromInit} rows, too few for sequences of ${longest} (${evenSeqLen(longest) - 1} tokens)`);
  }
  return fromInit;
}

/**
 * Check the --init checkpoints before training: at most one per attention type, each for a model
 * being trained, each fitting the model flags. Returns the file per type and the RoPE table length.
 */
function checkInits(opts: CliOptions): { files: Partial<Record<AttnType, string>>; maxLen: number } {
  const files: Partial<Record<AttnType, string>> = {};
  const dicts: Partial<Record<AttnType, Record<string, Tensor>>> = {};
  let fromInit: number | undefined;
  for (const file of opts.init) {
    let tensors: Record<string, Tensor>;
    try {
      tensors = loadSafetensors(file).tensors;
    } catch (e) {
      throw new UsageError(`--init ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    const type = attnTypeOf(tensors, file);
    if (files[type]) throw new UsageError(`--init: two ${type} checkpoints given; give at most one per attention type`);
    if (!opts.attn.includes(type)) {
      throw new UsageError(`--init ${file} holds a ${type} model, but --attn is ${opts.attn.join(' and ')}`);
    }
    const cos = tensors['attn.rope.cos'];
    if (cos) {
      if (fromInit !== undefined && fromInit !== cos.shape[0]) throw new UsageError(`--init: the checkpoints' RoPE tables differ in length`);
      fromInit = cos.shape[0];
    }
    files[type] = file;
    dicts[type] = tensors;
  }
  if (opts.init.length > 0 && opts.attn.some((t) => !files[t])) {
    const missing = opts.attn.filter((t) => !files[t]);
    throw new UsageError(`--init gives no ${missing.join(' or ')} checkpoint; add one, or pass --attn ${opts.attn.find((t) => files[t])}`);
  }
  const maxLen = maxLenFor(opts, fromInit);
  for (const [type, dict] of Object.entries(dicts) as [AttnType, Record<string, Tensor>][]) {
    const model = new TestModel({ vocab: opts.vocab, dModel: opts.dModel, nHead: opts.heads, maxLen, attnType: type });
    try {
      model.loadStateDict(dict);
    } catch (e) {
      throw new UsageError(`--init does not fit the model flags: ${(e as Error).message.split('\n').slice(1).map((l) => l.trim()).join('; ')}`);
    }
  }
  return { files, maxLen };
}

/**
 * Switch to the asked backend where it runs (wasm without WebAssembly SIMD, or gpu without a GL
 * context, falls back to the CPU engine and says so); returns the backend used and the GPU's renderer.
 */
async function selectBackend(opts: CliOptions): Promise<{ backend: string; renderer: string | null; gpuMode: string | null }> {
  if (opts.backend === 'cpu') return { backend: 'cpu', renderer: null, gpuMode: null };
  if (opts.backend === 'wasm') {
    const wasm = wasmInfo();
    if (wasm.available) return { backend: 'wasm', renderer: null, gpuMode: null };
    process.stderr.write(`copy-task: --backend wasm: ${wasm.reason}; training on the JS reference backend (cpu)\n`);
    return { backend: 'cpu', renderer: null, gpuMode: null };
  }
  let gpu: { useGpu(o?: { quiet?: boolean }): boolean; headlessGlRenderer(): string | null; gpuInfo(): { mode: string } | null };
  try {
    const name = '@wedge/gpu'; // a variable: the example runs (on the CPU) without the package
    gpu = (await import(name)) as typeof gpu;
  } catch (e) {
    throw new UsageError(`--backend gpu: @wedge/gpu cannot be loaded (${(e as Error).message.split('\n')[0]})`);
  }
  // useGpu prints why (and the fix) itself unless asked to be quiet; quiet still gets one line
  const ok = gpu.useGpu({ quiet: opts.quiet });
  if (!ok && opts.quiet) process.stderr.write('copy-task: no GPU context; training on the CPU\n');
  const mode = gpu.gpuInfo()?.mode ?? null;
  return { backend: getBackend().name, renderer: ok && mode === 'headlessgl' ? gpu.headlessGlRenderer() : null, gpuMode: ok ? mode : null };
}

/** gpu.js's version as @wedge/gpu resolves it, or null without the package. */
function gpuJsVersion(): string | null {
  try {
    const req = createRequire(join(REPO_ROOT, 'packages', 'gpu', 'package.json'));
    return (JSON.parse(readFileSync(req.resolve('gpu.js/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

const stamp = (d: Date): string => d.toISOString().replace(/\..*$/, '').replace(/:/g, '-');

/** What run.json holds: enough to continue the run with --resume. */
interface RunRecord {
  opts: CliOptions;
  out: string;
  maxLen: number;
  initFiles: Partial<Record<AttnType, string>>;
  started: string;
  argv: string[];
}

function jobSpecs(rec: RunRecord, staging: string, commit: string, engine: { backend: string; threads: number }): JobSpec[] {
  const o = rec.opts;
  const seeds = Array.from({ length: o.seeds }, (_, i) => o.seed + i);
  // both models of a seed side by side, so that parallel workers finish seeds in order
  return seeds.flatMap((seed) =>
    o.attn.map((attnType): JobSpec => ({
      attnType,
      seed,
      ...engine,
      config: {
        steps: o.steps, batchSize: o.batch, seqLen: o.seqLen, vocab: o.vocab, dModel: o.dModel, nHead: o.heads, lr: o.lr,
        evalEvery: o.evalEvery, evalSize: o.evalSize, maxLen: rec.maxLen, hubTokens: o.hubTokens, hubScale: o.hubScale,
      },
      initFile: rec.initFiles[attnType] ?? null,
      probeLoud: o.probeLoud,
      evalLengths: o.evalLengths,
      checkpointEvery: o.checkpointEvery,
      staging,
      modelFile: o.seeds === 1 ? `${attnType}.safetensors` : `${jobId(attnType, seed)}.safetensors`,
      // what the seed's TestModel(vocab, d_model, n_head, max_len, attn_type) needs to load it
      modelMetadata: {
        format: 'pt', attn_type: attnType, vocab: String(o.vocab), d_model: String(o.dModel), n_head: String(o.heads), max_len: String(rec.maxLen),
        seq_len: String(o.seqLen), steps: String(o.steps), seed: String(seed), hub_tokens: String(o.hubTokens), hub_scale: String(o.hubScale), commit,
      },
    })),
  );
}

/** Progress of every job: per-eval lines in logs (labelled with the seed when there are several), one status line on a TTY. */
function progressOf(opts: CliOptions): (e: JobEvent) => void {
  const p = makeProgress(opts.quiet);
  const label = (a: AttnType, seed: number): string => (opts.seeds > 1 ? `${a} seed ${seed}` : a);
  return (e) => {
    if (e.kind === 'eval') p.eval(label(e.attnType, e.seed), e.point, e.steps);
    else if (e.kind === 'step') p.step(label(e.attnType, e.seed), e.step, e.steps, e.loss, e.copyAccuracy);
    else if (e.kind === 'phase') p.phase(label(e.attnType, e.seed), e.phase);
    else p.done(label(e.attnType, e.seed), e.copyAccuracy);
  };
}

async function main(argv: string[]): Promise<void> {
  const parsed = parseCli(argv, USER_CWD, (cwd, p) => (isAbsolute(p) ? p : resolve(cwd, p)));
  if (parsed.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  let rec: RunRecord;
  let staging: string;
  let resumed = false;
  if (parsed.resume !== null) {
    const found = findResumable(parsed.resume);
    staging = found.staging;
    const saved = JSON.parse(readFileSync(join(staging, 'run.json'), 'utf8')) as RunRecord;
    rec = { ...saved, opts: { ...saved.opts, quiet: parsed.quiet, jobs: parsed.jobs ?? saved.opts.jobs, resume: null } };
    resumed = true;
  } else {
    checkSizes(parsed, totalmem());
    const { files, maxLen } = checkInits(parsed);
    const out = parsed.out ?? join(REPO_ROOT, 'runs', stamp(new Date()));
    staging = prepareOutput(out);
    rec = { opts: parsed, out, maxLen, initFiles: files, started: new Date().toISOString(), argv };
    writeFileSync(join(staging, 'run.json'), `${JSON.stringify(rec, null, 2)}\n`);
  }
  const opts = rec.opts;
  const out = rec.out;
  for (const sub of ['jobs', 'checkpoints', ...(opts.probeLoud ? ['probe'] : [])]) mkdirSync(join(staging, sub), { recursive: true });
  const { backend, renderer, gpuMode } = await selectBackend(opts);
  const info = runInfo(REPO_ROOT);
  const say = (s: string): void => {
    if (!opts.quiet) process.stdout.write(`${s}\n`);
  };
  const jobCount = opts.seeds * opts.attn.length;
  const { workers, threads } = schedule(backend, opts.jobs, jobCount, availableParallelism());
  const specs = jobSpecs(rec, staging, String(info.commit), { backend, threads });
  const planned = backend === 'gpu' && gpuMode ? `gpu (${gpuMode})` : engineLabel(backend, threads);
  const seedList = opts.seeds === 1 ? `seed ${opts.seed}` : `seeds ${opts.seed}…${opts.seed + opts.seeds - 1}`;
  say(
    `copy task: ${opts.attn.join(' vs ')} · vocab ${opts.vocab} · d_model ${opts.dModel} · ${opts.heads} heads · ` +
      `seq_len ${opts.seqLen} · batch ${opts.batch} · lr ${opts.lr} · ${opts.steps} steps · ${seedList}` +
      (opts.hubTokens > 0 ? ` · ${opts.hubTokens} hub tokens ×${opts.hubScale}` : ''),
  );
  const layout = workers === 0 ? 'one model at a time' : `${workers} models at once in worker threads`;
  say(`backend ${planned}${workers === 0 ? '' : ' each'} · ${layout} · commit ${info.commit} · ${(info.machine as { cpu: string }).cpu}${resumed ? ` · resuming ${staging}` : ''}`);

  const { results: unordered, failures } = await runJobs(specs, workers, progressOf(opts));
  if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\n'); // end the status line
  const order = (r: { attnType: AttnType; seed: number }): number => opts.attn.indexOf(r.attnType) * 1e9 + (r.seed - opts.seed);
  const results = [...unordered].sort((a, b) => order(a) - order(b));
  const crashed = failures.filter((f) => !f.diverged);
  if (crashed.length > 0) {
    throw new RunError(
      `${crashed.length} of ${specs.length} jobs failed (first: ${crashed[0].attnType} seed ${crashed[0].seed}: ${crashed[0].message}). ` +
        `The finished jobs and checkpoints are kept in ${staging}: continue with --resume ${out}`,
    );
  }
  const finished = new Date();
  const floor = lossFloor(opts.seqLen, opts.vocab);
  const summary = summarize(results, opts.attn);
  const difference = opts.attn.length === 2 ? pairedDifference(results) : null;
  const { probe, baseline } = summarizeProbe(results, opts.attn);
  const lengths = summarizeLengths(results, opts.attn, opts.seqLen);
  const hub = opts.hubTokens > 0 ? ` · ${opts.hubTokens} hub tokens ×${opts.hubScale}` : '';
  const title =
    `copy task · vocab ${opts.vocab} · d_model ${opts.dModel} · ${opts.heads} heads · seq_len ${opts.seqLen} · ` +
    `batch ${opts.batch} · lr ${opts.lr} · ${seedList}${hub}`;

  const written: string[] = results.map((r) => r.modelFile);
  const write = (name: string, data: string | Uint8Array): void => {
    if (process.env.WEDGE_COPY_TASK_FAIL_WRITE === name) {
      // test hook: a full disk, as the file system reports it
      throw Object.assign(new Error(`ENOSPC: no space left on device, write '${name}'`), { code: 'ENOSPC' });
    }
    writeFileSync(join(staging, name), data);
    written.push(name);
  };
  try {
    if (results.length > 0) {
      const curves = await render(curvesSpec(results, title, floor));
      write('curves.svg', curves.svg);
      write('curves.png', curves.png);
    }
    if (Object.keys(probe).length > 0) {
      const fig = await render(probeSpec(probe, baseline, `loud-key probe · ${title}`));
      write('probe.svg', fig.svg);
      write('probe.png', fig.png);
    }
    if (Object.keys(lengths).length > 0) {
      const fig = await render(lengthsSpec(lengths, `length generalisation · trained at seq_len ${opts.seqLen} · ${seedList}`));
      write('lengths.svg', fig.svg);
      write('lengths.png', fig.png);
    }
    const json = {
      ...info,
      versions: { ...(info.versions as object), 'gpu.js': gpuJsVersion() },
      requestedBackend: opts.backend,
      // what trained the models (each model records its own, too)
      backend: [...new Set(results.map((r) => (r.backend === 'gpu' && gpuMode ? `gpu (${gpuMode})` : r.backend)))].join(', ') || planned,
      workers: Math.max(1, workers),
      gpu: opts.backend === 'gpu' ? { mode: gpuMode, renderer } : null,
      started: rec.started,
      finished: finished.toISOString(),
      resumed,
      argv: rec.argv,
      config: {
        attnTypes: opts.attn, steps: opts.steps, batchSize: opts.batch, seqLen: opts.seqLen, vocab: opts.vocab, dModel: opts.dModel, nHead: opts.heads,
        lr: opts.lr, seed: opts.seed, evalEvery: opts.evalEvery, evalSize: opts.evalSize, maxLen: rec.maxLen, seeds: opts.seeds, hubTokens: opts.hubTokens,
        hubScale: opts.hubScale, evalLengths: opts.evalLengths, probeLoud: opts.probeLoud, checkpointEvery: opts.checkpointEvery, init: rec.initFiles,
      },
      seed: opts.seed,
      seeds: Array.from({ length: opts.seeds }, (_, i) => opts.seed + i),
      lossFloor: floor,
      chance: 1 / opts.vocab,
      intervals: 'ci95: mean ± t(0.975, n − 1)·s/√n, a Student-t interval on the mean across seeds (null when n < 2); stepsTo99 over the seeds that reached 99 %',
      summary,
      difference,
      probe,
      probeBaseline: baseline,
      lengths,
      failed: failures,
      models: results,
      resilience: resilienceTable(),
      checkpoints: results.map((r) => join(out, r.modelFile)),
    };
    write('results.json', `${JSON.stringify(json, null, 2)}\n`);
    rmSync(join(staging, 'jobs'), { recursive: true, force: true });
    rmSync(join(staging, 'checkpoints'), { recursive: true, force: true });
    publish(staging, out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === undefined) throw e;
    throw new RunError(`writing the results failed: ${fsReason(e)}. The trained models are kept in ${staging}: make room, then --resume ${out}`);
  }

  say('');
  if (opts.seeds === 1 && results.length > 0) say(summaryTable(results, { steps: opts.steps, lossFloor: floor }));
  else if (results.length > 0) say(studyTable(summary, difference, opts.steps));
  say(`(loss floor: (half − 1)/(seq_len − 1) · ln V = ${floor.toFixed(4)}; chance copy accuracy ${(100 / opts.vocab).toFixed(1)}%${opts.seeds > 1 ? '; intervals: 95 % Student-t on the mean across seeds' : ''})`);
  if (Object.keys(probe).length > 0) {
    say('');
    say('=== Loud-key probe (trained models, held-out set) ===');
    say(probeTable(probe, baseline));
  }
  if (Object.keys(lengths).length > 0) {
    say('');
    say('=== Length generalisation ===');
    say(lengthsTable(lengths));
  }
  say('');
  say('=== Resilience Analysis: Gram Det vs Dot Product ===');
  say(formatResilienceTable(resilienceTable()));
  say('');
  const shown = (p: string): string => (relative(USER_CWD, p).startsWith('..') ? p : relative(USER_CWD, p));
  say(`wrote ${shown(out)}/: ${['run.json', ...written, ...(opts.probeLoud ? ['probe/'] : [])].join(', ')}`);
  if (opts.quiet) process.stdout.write(`${shown(out)}\n`);
  if (failures.length > 0) {
    throw new RunError(`${failures.map((f) => f.message).join('; ')}; the other results are in ${shown(out)}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof WedgeError) {
    process.stderr.write(`copy-task: ${(e as Error).message.split('\n')[0]}\n`);
    process.exit(2);
  }
  if (e instanceof RunError) {
    process.stderr.write(`copy-task: ${e.message}\n`);
    process.exit(1);
  }
  if ((e as NodeJS.ErrnoException)?.code !== undefined) {
    process.stderr.write(`copy-task: ${fsReason(e)}\n`);
    process.exit(1);
  }
  throw e;
});
