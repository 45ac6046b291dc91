// The benchmark tables: matmul GFLOP/s, the default training step, and the scaling table, for Wedge
// (wasm on 1 and 2 threads, the JS reference) beside PyTorch 2.13 (MKL), PyTorch 1.13 + OpenBLAS,
// jax-js and tfjs-wasm. Every peer runs in its own child process, one at a time (so threads are
// controlled and each process's peak RSS is its own), and the issue's targets print beside the tables.
// Run: pnpm --filter bench tables [-- --quick | --smoke] [--md FILE] [--json FILE] [--peers id,id]
//      pnpm --filter bench matmul | train-step | scaling   (one table)
// Peers outside npm: bench/setup-peers.sh.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ATTNS, type Attn, BENCH_DIR, type Job, type MatmulCase, type Mode, type PeerReport, RESULT_TAG, type StepConfig,
  VARIANT_TEXT, commit, defaultStepConfig, machine, matmulCases, matmulTiming, scalingConfigs, stepKey,
} from './harness.ts';

type Table = 'matmul' | 'train-step' | 'scaling';
const TABLES: readonly Table[] = ['matmul', 'train-step', 'scaling'];

const { values: args, positionals } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'), // pnpm passes its `--` separator through
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    md: { type: 'string' },
    json: { type: 'string' },
    peers: { type: 'string' },
  },
});
const MODE: Mode = args.smoke ? 'smoke' : args.quick ? 'quick' : 'full';
const tables: Table[] = positionals.length === 0 || positionals.includes('all') ? [...TABLES] : (positionals as Table[]);
for (const t of tables) if (!TABLES.includes(t)) throw new Error(`bench: unknown table '${t}' (one of ${TABLES.join(', ')}, all)`);

// ---- peers --------------------------------------------------------------------------------------

interface Peer {
  readonly id: string;
  readonly label: string;
  /** The command, or why this peer cannot run here. */
  readonly command: () => { cmd: string; args: string[]; env?: Record<string, string> } | { skip: string };
}

const node = (file: string, ...flags: string[]) => () => ({ cmd: process.execPath, args: ['--import', 'tsx', join(BENCH_DIR, file), '<job>', ...flags] });

const TORCH_213 = join(BENCH_DIR, '.venv-torch/bin/python');
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const probed = new Map<string, boolean>();
const hasTorch = (python: string): boolean => {
  if (!probed.has(python)) probed.set(python, existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  return probed.get(python)!;
};
const torch = (python: string, threads: number, env: Record<string, string>, missing: string) => () =>
  hasTorch(python)
    ? { cmd: python, args: [join(BENCH_DIR, 'peer_torch.py'), '<job>', '--threads', String(threads)], env: { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), ...env } }
    : { skip: missing };

const PEERS: readonly Peer[] = [
  { id: 'wedge-wasm-2', label: 'Wedge wasm 2T', command: node('peer_wedge.ts', '--backend', 'wasm', '--threads', '2') },
  { id: 'wedge-wasm-1', label: 'Wedge wasm 1T', command: node('peer_wedge.ts', '--backend', 'wasm', '--threads', '1') },
  { id: 'wedge-js', label: 'Wedge JS', command: () => ({ ...node('peer_wedge.ts', '--backend', 'cpu')(), env: { WEDGE_BACKEND: 'cpu' } }) },
  { id: 'torch-2.13-2', label: 'PyTorch 2.13 2T', command: torch(TORCH_213, 2, {}, 'not installed (bash bench/setup-peers.sh)') },
  { id: 'torch-2.13-1', label: 'PyTorch 2.13 1T', command: torch(TORCH_213, 1, {}, 'not installed (bash bench/setup-peers.sh)') },
  {
    id: 'torch-1.13-2', label: 'PyTorch 1.13 OpenBLAS 2T',
    command: existsSync(OPENBLAS)
      ? torch('/usr/bin/python3', 2, { LD_LIBRARY_PATH: OPENBLAS }, 'not installed (apt-get install python3-torch)')
      : () => ({ skip: `no OpenBLAS at ${OPENBLAS} (apt-get install libopenblas0-pthread)` }),
  },
  { id: 'jaxjs-2', label: 'jax-js 2 workers', command: node('peer_jaxjs.ts', '--workers', '2') },
  { id: 'jaxjs-1', label: 'jax-js 1T', command: node('peer_jaxjs.ts', '--workers', '0') },
  { id: 'tfjs', label: 'tfjs-wasm 1T', command: node('peer_tfjs.ts') },
];
const only = args.peers?.split(',');
/** --smoke leaves out the 1-thread twins of Wedge wasm and PyTorch 2.13 (the same code as their 2-thread runs). */
const SMOKE_SKIPS = ['wedge-wasm-1', 'torch-2.13-1'];
const peerById = (id: string): Peer => PEERS.find((p) => p.id === id)!;
const selected = (ids: string[]): Peer[] =>
  ids.filter((id) => (!only || only.includes(id)) && !(MODE === 'smoke' && SMOKE_SKIPS.includes(id))).map(peerById);

type Outcome = PeerReport | { skip: string };
const isReport = (o: Outcome | undefined): o is PeerReport => o !== undefined && !('skip' in o);
const details = new Map<string, string>(); // peer label → its detail line (library, BLAS, threads)
const skips = new Map<string, string>(); //   peer label → why it has no numbers
const loads: number[] = []; //                  1-minute load average as each peer process started

/** Runs one peer on one job in its own process and reads its report. */
function runPeer(peer: Peer, job: Job): Outcome {
  const c = peer.command();
  if ('skip' in c) {
    skips.set(peer.label, c.skip);
    return c;
  }
  const started = performance.now();
  loads.push(loadavg()[0]);
  const r = spawnSync(c.cmd, c.args.map((a) => (a === '<job>' ? JSON.stringify(job) : a)), {
    cwd: BENCH_DIR, encoding: 'utf8', env: { ...process.env, ...c.env }, timeout: 600_000, maxBuffer: 64 << 20,
  });
  const line = r.stdout?.split('\n').find((l) => l.startsWith(RESULT_TAG));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status === 3) {
    const why = r.stderr.trim().split('\n').pop() ?? 'not built';
    skips.set(peer.label, why);
    return { skip: 'not built' };
  }
  if (r.status !== 0 || !line) {
    const why = r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' / ');
    skips.set(peer.label, `failed (exit ${r.status ?? r.signal}): ${why}`);
    console.error(`  ${peer.label}: failed after ${seconds} s: ${why}`);
    return { skip: 'failed' };
  }
  const rep = JSON.parse(line.slice(RESULT_TAG.length)) as PeerReport;
  details.set(peer.label, rep.detail);
  console.error(`  ${peer.label}: ${seconds} s, peak RSS ${rep.peakRssMiB.toFixed(0)} MiB`);
  return rep;
}

// ---- formatting ----------------------------------------------------------------------------------

const out: string[] = [];
const say = (s = ''): void => {
  out.push(s);
  console.log(s);
};
const table = (header: string[], rows: string[][], align: ('l' | 'r')[]): void => {
  say(`| ${header.join(' | ')} |`);
  say(`|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`);
  for (const r of rows) say(`| ${r.join(' | ')} |`);
};
/** GFLOP/s and ms alike: no decimals from 100, one from 1, two significant figures below 1. */
const num = (x: number | undefined): string => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toPrecision(2));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(1)}×`);
const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? '**met**' : '**missed**');
const fastestOf = (xs: (number | undefined)[]): number | undefined => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? Math.min(...v) : undefined;
};
const cellOr = (o: Outcome | undefined, value: string): string => (o && 'skip' in o ? o.skip : value);

const json: Record<string, unknown> = {};

// ---- (a) matmul ----------------------------------------------------------------------------------

function matmulTable(): void {
  const cases = matmulCases(MODE);
  const ids = ['wedge-wasm-2', 'wedge-wasm-1', 'wedge-js', 'torch-2.13-2', 'torch-2.13-1', 'torch-1.13-2', 'jaxjs-2', 'jaxjs-1', 'tfjs'];
  const peers = selected(ids);
  console.error(`matmul: ${cases.length} products × ${peers.length} peers`);
  const res = new Map<string, Outcome>();
  for (const p of peers) res.set(p.id, runPeer(p, { task: 'matmul', cases, timing: matmulTiming(MODE) }));
  json.matmul = Object.fromEntries(res);
  const value = (id: string, key: string): number | undefined => {
    const r = res.get(id);
    return isReport(r) ? r.gflops?.[key] : undefined;
  };
  const target = (c: MatmulCase): string => (c.kind === 'square' ? '≥ 40 (2T), ≥ 25 (1T)' : c.kind === 'batched' ? '≥ 10' : '');
  say(`### Matmul, float32 GFLOP/s (2·batch·M·K·N / time; best of ${matmulTiming(MODE).rounds} rounds of ≥ ${matmulTiming(MODE).minTimeMs} ms)`);
  say();
  const rows = cases.map((c) => [
    c.label, VARIANT_TEXT[c.variant],
    ...peers.map((p) => {
      const r = res.get(p.id);
      if (!isReport(r)) return cellOr(r, '–');
      return p.id.startsWith('wedge-wasm') ? `**${num(value(p.id, c.key))}**` : num(value(p.id, c.key));
    }),
    target(c),
  ]);
  table(['shape', 'product', ...peers.map((p) => p.label), 'target (Wedge wasm)'], rows, ['l', 'l', ...peers.map(() => 'r' as const), 'l']);
  say();
  // the issue's targets, on the Wedge wasm columns
  const worst = (id: string, kind: MatmulCase['kind']): [number, string] | undefined => {
    let w: [number, string] | undefined;
    for (const c of cases.filter((x) => x.kind === kind)) {
      const v = value(id, c.key);
      if (v === undefined) return undefined;
      if (!w || v < w[0]) w = [v, `${c.label} ${VARIANT_TEXT[c.variant]}`];
    }
    return w;
  };
  const line = (what: string, id: string, kind: MatmulCase['kind'], bound: number): void => {
    const w = worst(id, kind);
    say(`- ${what} ≥ ${bound} GFLOP/s: ${verdict(w && w[0] >= bound)}${w ? ` (slowest ${num(w[0])}, ${w[1]})` : ''}`);
  };
  say('Targets (issue 12), on the slowest product of each group:');
  line('256³ and 512³, every transpose variant, Wedge wasm 2 threads', 'wedge-wasm-2', 'square', 40);
  line('the same on 1 thread', 'wedge-wasm-1', 'square', 25);
  line('batched attention shapes, Wedge wasm 2 threads', 'wedge-wasm-2', 'batched', 10);
  const big = cases.filter((c) => c.kind === 'square' && c.M === 512).map((c) => c.key);
  const mean = (id: string): number | undefined => {
    const v = big.map((k) => value(id, k));
    return v.some((x) => x === undefined) || v.length === 0 ? undefined : (v as number[]).reduce((a, b) => a + b, 0) / v.length;
  };
  if (big.length) say(`- ≈ 2× jax-js (512³, mean of the three variants, both on 2 threads): Wedge wasm / jax-js = ${ratio(mean('wedge-wasm-2'), mean('jaxjs-2'))}`);
  say();
}

// ---- (b) the default training step ---------------------------------------------------------------

function trainStepTable(): void {
  const cfg = defaultStepConfig(MODE);
  const ids = ['wedge-wasm-2', 'wedge-wasm-1', 'wedge-js', 'torch-2.13-2', 'torch-2.13-1', 'torch-1.13-2', 'jaxjs-2', 'jaxjs-1', 'tfjs'];
  const peers = selected(ids);
  console.error(`train step ${cfg.name}: ${peers.length} peers`);
  const res = new Map<string, Outcome>();
  for (const p of peers) res.set(p.id, runPeer(p, { task: 'step', configs: [cfg], attns: [...ATTNS] }));
  json.trainStep = { config: cfg, results: Object.fromEntries(res) };
  const t = (id: string, a: Attn) => {
    const r = res.get(id);
    return isReport(r) ? r.steps?.[stepKey(cfg, a)] : undefined;
  };
  // PyTorch 2.13 at its faster thread count in this run: on a shared machine 2 threads can lose to 1
  const anchor = (a: Attn) => fastestOf(['torch-2.13-2', 'torch-2.13-1'].map((id) => t(id, a)?.median));
  say(`### One training step: vocab ${cfg.vocab}, d_model ${cfg.dModel}, ${cfg.nHead} heads, seq_len ${cfg.seqLen}, batch ${cfg.batch}, Adam lr ${cfg.lr}`);
  say();
  say(`Forward, backward and Adam; median ms of ${cfg.steps} steps after ${cfg.warmup} warm-up steps.`);
  say();
  const rows = peers.map((p) => {
    const r = res.get(p.id);
    if (!isReport(r)) return [p.label, cellOr(r, '–'), '', '', '', ''];
    const [s, tr] = ATTNS.map((a) => t(p.id, a));
    return [
      p.id.startsWith('wedge') ? `**${p.label}**` : p.label,
      num(s?.median), num(tr?.median),
      `${ratio(s?.median, anchor('standard'))} / ${ratio(tr?.median, anchor('triple'))}`,
      `${s?.firstLoss.toFixed(5)} → ${s?.lastLoss.toFixed(5)} / ${tr?.firstLoss.toFixed(5)} → ${tr?.lastLoss.toFixed(5)}`,
      r.peakRssMiB.toFixed(0),
    ];
  });
  table(['peer', 'standard ms', 'triple ms', '÷ PyTorch 2.13 (std / triple)', 'loss first → last (std / triple)', 'peak RSS MiB'], rows, ['l', 'r', 'r', 'r', 'l', 'r']);
  say();
  // Wedge's best backend (the fastest of its columns, per attention) against the targets
  const wedgeIds = ['wedge-wasm-2', 'wedge-wasm-1', 'wedge-js'].filter((id) => isReport(res.get(id)));
  const best = (a: Attn): [number, string] | undefined => {
    let b: [number, string] | undefined;
    for (const id of wedgeIds) {
      const v = t(id, a)?.median;
      if (v !== undefined && (!b || v < b[0])) b = [v, peerById(id).label];
    }
    return b;
  };
  const fastest = (pids: string[], a: Attn): [number, string] | undefined => {
    let b: [number, string] | undefined;
    for (const id of pids) {
      const v = t(id, a)?.median;
      if (v !== undefined && (!b || v < b[0])) b = [v, peerById(id).label];
    }
    return b;
  };
  say('Targets (issue 12), Wedge at its fastest backend:');
  for (const [a, bound] of [['standard', 4], ['triple', 2.5]] as const) {
    const w = best(a);
    const p = anchor(a);
    say(`- ${a} ≤ ${bound}× PyTorch 2.13 (the faster of its 1- and 2-thread runs): ${verdict(w && p ? w[0] / p <= bound : undefined)}${w && p ? ` (${w[1]} ${num(w[0])} ms = ${(w[0] / p).toFixed(2)}× of ${num(p)} ms)` : ''}`);
  }
  for (const [name, pids] of [['jax-js', ['jaxjs-2', 'jaxjs-1']], ['tfjs-wasm', ['tfjs']]] as const) {
    const parts = ATTNS.map((a) => {
      const w = best(a);
      const f = fastest([...pids], a);
      return { a, ok: w && f ? w[0] < f[0] : undefined, text: w && f ? `${a} ${num(w[0])} vs ${num(f[0])} ms (${f[1]})` : `${a} not measured` };
    });
    const ok = parts.some((x) => x.ok === undefined) ? undefined : parts.every((x) => x.ok);
    say(`- faster than ${name} (its fastest setting), both attentions: ${verdict(ok)} (${parts.map((x) => x.text).join('; ')})`);
  }
  say();
}

// ---- (c) scaling ---------------------------------------------------------------------------------

function scalingTable(): void {
  const configs = scalingConfigs(MODE);
  // Wedge's best backend: wasm on every core where it exists, else the JS reference
  const wasmHere = !only || only.includes('wedge-wasm-2') ? runPeer(peerById('wedge-wasm-2'), { task: 'step', configs: [], attns: [] }) : undefined;
  const peers = selected([isReport(wasmHere) ? 'wedge-wasm-2' : 'wedge-js', 'torch-2.13-2', 'torch-2.13-1', 'torch-1.13-2']);
  console.error(`scaling: ${configs.length} configs × ${ATTNS.length} attentions × ${peers.length} peers, one process each`);
  const res = new Map<string, Outcome>(); // `${peer}|${config}:${attn}`
  for (const cfg of configs) {
    for (const a of ATTNS) {
      for (const p of peers) res.set(`${p.id}|${stepKey(cfg, a)}`, runPeer(p, { task: 'step', configs: [cfg], attns: [a] }));
    }
  }
  json.scaling = { configs, results: Object.fromEntries(res) };
  const get = (id: string, cfg: StepConfig, a: Attn) => {
    const r = res.get(`${id}|${stepKey(cfg, a)}`);
    return isReport(r) ? { t: r.steps?.[stepKey(cfg, a)], rss: r.peakRssMiB } : undefined;
  };
  const pair = (id: string, cfg: StepConfig, f: (x: ReturnType<typeof get>) => string): string => ATTNS.map((a) => f(get(id, cfg, a))).join(' / ');
  say('### Scaling: one training step (standard / triple), vocab 16, 4 heads, Adam; peak RSS of each process');
  say();
  say('Each cell is its own process (model, data, one attention); median ms after warm-up. Peak RSS includes the runtime (Node + tsx + Wedge ≈ 85 MiB, Python + torch ≈ 220 MiB before any tensor).');
  say();
  const labels = peers.map((p) => p.label);
  const rows = configs.map((cfg) => [
    `${cfg.name} (${cfg.warmup}+${cfg.steps} steps)`,
    ...peers.map((p) => pair(p.id, cfg, (x) => num(x?.t?.median))),
    ATTNS.map((a) => ratio(get(peers[0].id, cfg, a)?.t?.median, fastestOf(['torch-2.13-2', 'torch-2.13-1'].map((id) => get(id, cfg, a)?.t?.median)))).join(' / '),
    ...peers.map((p) => pair(p.id, cfg, (x) => (x ? x.rss.toFixed(0) : '–'))),
  ]);
  table(
    ['config (d_model/seq_len/batch)', ...labels.map((l) => `${l} ms`), `${labels[0]} ÷ PyTorch 2.13 (faster of 1T, 2T)`, ...labels.map((l) => `${l} RSS MiB`)],
    rows, ['l', ...labels.map(() => 'r' as const), 'r', ...labels.map(() => 'r' as const)],
  );
  say();
}

// ---- the run -------------------------------------------------------------------------------------

const m = machine();
const started = new Date();
say(`## Wedge benchmarks (${MODE}${MODE === 'full' ? '' : ' mode: not for quoting'})`);
say();
say(`machine: ${m.cpu}, ${m.cores} cores, load average ${m.load.map((l) => l.toFixed(2)).join(' ')} at start`);
say(`node ${process.version}, commit ${commit()}, ${started.toISOString()}`);
say('backends: one per column (Wedge wasm on 2 and 1 threads, Wedge JS reference); every peer, its library, BLAS and threads are listed at the end');
say();
if (tables.includes('matmul')) matmulTable();
if (tables.includes('train-step')) trainStepTable();
if (tables.includes('scaling')) scalingTable();
say('Peers:');
for (const p of PEERS) {
  if (details.has(p.label)) say(`- ${p.label}: ${details.get(p.label)}`);
  else if (skips.has(p.label)) say(`- ${p.label}: ${skips.get(p.label)}`);
}
const end = machine();
say();
say(`load average ${end.load.map((l) => l.toFixed(2)).join(' ')} at the end; 1-minute load as each peer started: ${loads.length ? `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}` : '–'} (the bench itself is ≈ 1 on one core, 2 on two); ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s in all`);
if (args.md) writeFileSync(args.md, `${out.join('\n')}\n`);
if (args.json) writeFileSync(args.json, JSON.stringify({ mode: MODE, machine: m, commit: commit(), node: process.version, date: started.toISOString(), ...json }, null, 2));
