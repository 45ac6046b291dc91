// The experiment: the seed's one-layer model with standard vs triple-product attention on the copy
// task, trained side by side. `pnpm --filter examples copy-task --help` lists the flags.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, WedgeError, getBackend } from '@wedge/core';
import { loadSafetensors, saveSafetensors } from '@wedge/core/node';
import {
  type AttnType, type ComparisonResult, type TrainConfig, formatResilienceTable, resilienceTable, trainComparison,
} from '@wedge/models';
import { type CliOptions, HELP, UsageError, parseCli } from './copy_task/args.ts';
import { renderPlot } from './copy_task/plot.ts';
import { makeProgress } from './copy_task/progress.ts';
import { runInfo, summaryTable } from './copy_task/report.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// pnpm runs scripts in the package's folder; INIT_CWD is where the user typed the command
const USER_CWD = process.env.INIT_CWD ?? process.cwd();

/** Which attention type a state dict holds, from its keys. */
function attnTypeOf(dict: Record<string, Tensor>, file: string): AttnType {
  if ('attn.qkv.weight' in dict) return 'standard';
  if ('attn.W_q.weight' in dict) return 'triple';
  throw new UsageError(`--init ${file}: not a TestModel checkpoint (no 'attn.qkv.weight' or 'attn.W_q.weight')`);
}

/** Load the --init checkpoints: at most one per attention type, each for a model being trained. */
function loadInits(opts: CliOptions): { init: TrainConfig['init']; maxLen?: number } {
  const init: NonNullable<TrainConfig['init']> = {};
  let maxLen: number | undefined;
  for (const file of opts.init) {
    let tensors: Record<string, Tensor>;
    try {
      tensors = loadSafetensors(file).tensors;
    } catch (e) {
      throw new UsageError(`--init ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    const type = attnTypeOf(tensors, file);
    if (init[type]) throw new UsageError(`--init: two ${type} checkpoints given; give at most one per attention type`);
    if (!opts.attn.includes(type)) {
      throw new UsageError(`--init ${file} holds a ${type} model, but --attn is ${opts.attn.join(' and ')}`);
    }
    const cos = tensors['attn.rope.cos'];
    if (cos) {
      if (maxLen !== undefined && maxLen !== cos.shape[0]) throw new UsageError(`--init: the checkpoints' RoPE tables differ in length`);
      maxLen = cos.shape[0];
    }
    init[type] = tensors;
  }
  if (opts.init.length > 0 && opts.attn.some((t) => !init[t])) {
    const missing = opts.attn.filter((t) => !init[t]);
    throw new UsageError(`--init gives no ${missing.join(' or ')} checkpoint; add one, or pass --attn ${opts.attn.find((t) => init[t])}`);
  }
  return { init, maxLen };
}

/** Switch to the GPU backend if asked and possible; returns the backend actually used. */
async function selectBackend(opts: CliOptions): Promise<string> {
  if (opts.backend === 'cpu') return 'cpu';
  let gpu: { useGpu(o?: { quiet?: boolean }): boolean };
  try {
    const name = '@wedge/gpu'; // a variable: the example runs (on the CPU) without the package
    gpu = (await import(name)) as typeof gpu;
  } catch (e) {
    throw new UsageError(`--backend gpu: @wedge/gpu cannot be loaded (${(e as Error).message.split('\n')[0]})`);
  }
  // useGpu prints why (and the fix) itself unless asked to be quiet; quiet still gets one line
  if (!gpu.useGpu({ quiet: opts.quiet }) && opts.quiet) process.stderr.write('copy-task: no GPU context; training on the CPU\n');
  return getBackend().name;
}

const stamp = (d: Date): string => d.toISOString().replace(/\..*$/, '').replace(/:/g, '-');

/** The JSON-ready result: every metric, without the models themselves. */
function resultsJson(result: ComparisonResult, extra: Record<string, unknown>): unknown {
  return {
    ...extra,
    config: result.config,
    seed: result.config.seed,
    lossFloor: result.lossFloor,
    chance: result.chance,
    models: result.models.map(({ model: _model, ...rest }) => rest),
    resilience: resilienceTable(),
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseCli(argv, USER_CWD, (cwd, p) => (isAbsolute(p) ? p : resolve(cwd, p)));
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const { init, maxLen } = loadInits(opts);
  const backend = await selectBackend(opts);
  const started = new Date();
  const outDir = opts.out ?? join(REPO_ROOT, 'runs', stamp(started));
  const info = runInfo(REPO_ROOT);
  const config: TrainConfig = {
    attnTypes: opts.attn,
    steps: opts.steps,
    batchSize: opts.batch,
    seqLen: opts.seqLen,
    vocab: opts.vocab,
    dModel: opts.dModel,
    nHead: opts.heads,
    lr: opts.lr,
    seed: opts.seed,
    evalEvery: opts.evalEvery,
    evalSize: opts.evalSize,
    maxLen,
    init,
  };
  const say = (s: string): void => {
    if (!opts.quiet) process.stdout.write(`${s}\n`);
  };
  say(
    `copy task: ${opts.attn.join(' vs ')} · vocab ${opts.vocab} · d_model ${opts.dModel} · ${opts.heads} heads · ` +
      `seq_len ${opts.seqLen} · batch ${opts.batch} · lr ${opts.lr} · ${opts.steps} steps · seed ${opts.seed}`,
  );
  say(`backend ${backend} · commit ${info.commit} · ${(info.machine as { cpu: string }).cpu}`);
  const progress = makeProgress(opts.quiet);
  let result: ComparisonResult;
  try {
    result = trainComparison(config, {
      onStep: (s) => progress.step(s),
      onEval: (attn, p) => progress.eval(attn, p, opts.steps),
      onModelEnd: () => progress.done(),
    });
  } catch (e) {
    // a checkpoint that does not fit the flags is a usage problem: say so on one line
    if (e instanceof WedgeError && e.message.startsWith('loadStateDict')) {
      throw new UsageError(`--init does not fit the model flags: ${e.message.split('\n').slice(1).map((l) => l.trim()).join('; ')}`);
    }
    throw e;
  }
  const finished = new Date();

  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, data: string | Uint8Array): void => {
    writeFileSync(join(outDir, name), data);
    written.push(join(outDir, name));
  };
  for (const m of result.models) {
    const file = join(outDir, `${m.attnType}.safetensors`);
    // metadata: what the seed's TestModel(vocab, d_model, n_head, max_len, attn_type) needs to load it
    saveSafetensors(file, m.model.stateDict(), {
      format: 'pt',
      attn_type: m.attnType,
      vocab: String(opts.vocab),
      d_model: String(opts.dModel),
      n_head: String(opts.heads),
      max_len: String(result.config.maxLen),
      seq_len: String(opts.seqLen),
      steps: String(opts.steps),
      seed: String(opts.seed),
      commit: String(info.commit),
    });
    written.push(file);
  }
  const title =
    `copy task · vocab ${opts.vocab} · d_model ${opts.dModel} · ${opts.heads} heads · seq_len ${opts.seqLen} · ` +
    `batch ${opts.batch} · lr ${opts.lr} · seed ${opts.seed}`;
  const { svg, png } = await renderPlot(result, title);
  write('curves.svg', svg);
  write('curves.png', png);
  write(
    'results.json',
    `${JSON.stringify(resultsJson(result, { ...info, backend, started: started.toISOString(), finished: finished.toISOString(), checkpoints: written.filter((f) => f.endsWith('.safetensors')) }), null, 2)}\n`,
  );

  say('');
  say(summaryTable(result));
  say(`(loss floor: (half − 1)/(seq_len − 1) · ln V; chance copy accuracy ${(100 * result.chance).toFixed(1)}%)`);
  say('');
  say('=== Resilience Analysis: Gram Det vs Dot Product ===');
  say(formatResilienceTable(resilienceTable()));
  say('');
  const shown = (p: string): string => (relative(USER_CWD, p).startsWith('..') ? p : relative(USER_CWD, p));
  say(`wrote ${shown(outDir)}/: ${written.map((p) => relative(outDir, p)).join(', ')}`);
  if (opts.quiet) process.stdout.write(`${shown(outDir)}\n`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof WedgeError) {
    process.stderr.write(`copy-task: ${(e as Error).message.split('\n')[0]}\n`);
    process.exit(2);
  }
  throw e;
});
