// The chain rule, watched: builds L = Σ tanh(z)·z with z = x @ W + b, prints the tape in the order
// backward() visits it, and checks every gradient against its closed form computed in plain JS.
//
//   pnpm --filter examples chain-rule [--seed N] [--out path/to/graph.dot]
//
// What to look for: W [3, 2] is broadcast over the batch by matmul (an `expand` node on the tape)
// and b [2] by add; their gradients come back summed to [3, 2] and [2] by the engine, in one place.
// z feeds both tanh and mul, yet it appears once on the tape: its two gradients are added before
// its own backward step runs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Generator, fmtShape, getBackend, randn, toDot, topologicalOrder, unravelIndex, type Tensor } from '@wedge/core';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_SEED = 7;
/** float64 on both sides, so only rounding separates them (|Δ| is ~1e-15 here). */
const RTOL = 1e-9;
const ATOL = 1e-12;

export interface ChainRuleOptions {
  seed: number;
  /** Where the Graphviz file goes. */
  out: string;
}

/** `--seed N` and `--out FILE` (relative to the directory the command was typed in). */
export function parseArgs(argv: readonly string[]): ChainRuleOptions {
  const opts: ChainRuleOptions = { seed: DEFAULT_SEED, out: resolve(REPO_ROOT, 'runs', 'chain_rule.dot') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--') continue; // `pnpm … chain-rule -- --seed 3` passes the separator through
    if (flag === '--seed' && value !== undefined && /^\d+$/.test(value)) {
      opts.seed = Number(value);
    } else if (flag === '--out' && value !== undefined) {
      // pnpm runs scripts inside examples/; INIT_CWD is where the user typed the command
      opts.out = isAbsolute(value) ? value : resolve(process.env.INIT_CWD ?? process.cwd(), value);
    } else {
      throw new Error(`chain-rule: unknown or incomplete argument '${flag}' (usage: [--seed N] [--out FILE.dot])`);
    }
    i++;
  }
  return opts;
}

/** One leaf's gradient next to its hand-derived value, element by element, with ✓/✗. */
export function compareGradient(
  name: string,
  shape: readonly number[],
  wedge: ArrayLike<number>,
  hand: ArrayLike<number>,
): { lines: string[]; ok: boolean } {
  const lines: string[] = [];
  let ok = wedge.length === hand.length;
  if (!ok) lines.push(`    ✗ ${name}: Wedge gave ${wedge.length} values, the hand derivation ${hand.length}`);
  for (let k = 0; k < Math.min(wedge.length, hand.length); k++) {
    const good = Math.abs(wedge[k] - hand[k]) <= ATOL + RTOL * Math.abs(hand[k]);
    ok &&= good;
    const element = `${name}${shape.length > 0 ? fmtShape(unravelIndex(k, shape)) : ''}`;
    lines.push(`    ${element.padEnd(14)} ${fmtNum(wedge[k])}  ${fmtNum(hand[k])}  ${good ? '✓' : '✗'}`);
  }
  return { lines, ok };
}

/** Runs the example, writing its report through `log`; returns the process exit code. */
export function main(argv: readonly string[] = [], log: (line: string) => void = console.log): number {
  const { seed, out } = parseArgs(argv);
  const generator = new Generator(seed);
  const [B, N, K, M] = [2, 2, 3, 2];

  // ---- the expression ----------------------------------------------------------------------------
  const x = randn([B, N, K], { generator, dtype: 'float64', requiresGrad: true }); // [B, N, K]
  const W = randn([K, M], { generator, dtype: 'float64', requiresGrad: true }); //    [K, M], shared by the batch
  const b = randn([M], { generator, dtype: 'float64', requiresGrad: true }); //       [M]
  const h = x.matmul(W); //   [B, N, M]  W is expanded to [B, K, M] first: a view, and a node
  const z = h.add(b); //      [B, N, M]  b broadcasts over B and N
  const t = z.tanh(); //      [B, N, M]
  const p = t.mul(z); //      [B, N, M]  z on a second path
  const loss = p.sum(); //    []

  const names = new Map<Tensor, string>([[x, 'x'], [W, 'W'], [b, 'b'], [h, 'h'], [z, 'z'], [t, 't'], [p, 'p'], [loss, 'loss']]);
  const order = topologicalOrder(loss); // every tensor after its inputs
  // tensors the user never named (matmul's expand of W) are named after their op and inputs
  for (const u of order) {
    if (!names.has(u) && u.node) names.set(u, `${u.node.op}(${u.node.inputs.map((v) => names.get(v) ?? '·').join(', ')})`);
  }
  const nameOf = (u: Tensor): string => names.get(u) ?? (u.ndim === 0 && u.size === 1 ? String(u.item()) : 'const');

  log(`chain-rule: L = Σ tanh(z)·z,  z = x @ W + b   (seed ${seed}, float64, backend ${getBackend().name})`);
  log(`  x ${fmtShape(x.shape)} @ W ${fmtShape(W.shape)} (broadcast over the batch) + b ${fmtShape(b.shape)} (broadcast over batch and rows)`);
  log('');

  // ---- the tape, as backward() walks it ------------------------------------------------------------
  log('tape, in the order backward() visits it (topologicalOrder(loss), reversed):');
  log(`  ${'#'.padStart(2)}  ${'tensor'.padEnd(10)} ${'op'.padEnd(8)} ${'inputs'.padEnd(38)} shape`);
  [...order].reverse().forEach((u, i) => {
    const node = u.node;
    const inputs = node
      ? node.inputs.map((v, k) => `${node.inputNames[k]}=${nameOf(v)} ${fmtShape(v.shape)}`).join(', ')
      : `(leaf: accumulates into ${nameOf(u)}.grad)`;
    log(`  ${String(i + 1).padStart(2)}  ${nameOf(u).padEnd(10)} ${(node?.op ?? 'leaf').padEnd(8)} ${inputs.padEnd(38)} ${fmtShape(u.shape)}`);
  });
  log('');

  // ---- the graph, for Graphviz, drawn before backward() frees it (afterwards its boxes are dashed) ---
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, toDot(loss, names));

  // ---- Wedge's gradients ---------------------------------------------------------------------------
  loss.backward();
  const grad = (u: Tensor): ArrayLike<number> => {
    if (u.grad === null) throw new Error(`chain-rule: ${nameOf(u)} got no gradient`);
    return u.grad.data();
  };

  // ---- the same gradients by hand: plain JS arrays, closed forms, no Wedge ---------------------------
  const xs = Array.from(x.data());
  const Ws = Array.from(W.data());
  const bs = Array.from(b.data());
  const at3 = (i: number, n: number, j: number, J: number): number => (i * N + n) * J + j; // row-major [B, N, J]
  // zᵢₙₘ = Σₖ xᵢₙₖ Wₖₘ + bₘ ;  L = Σ tanh(z)·z ;  G = ∂L/∂z = tanh z + z·(1 − tanh² z)
  const zs = new Array<number>(B * N * M).fill(0);
  const G = new Array<number>(B * N * M).fill(0);
  let lossHand = 0;
  for (let i = 0; i < B; i++) {
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        let s = bs[m];
        for (let k = 0; k < K; k++) s += xs[at3(i, n, k, K)] * Ws[k * M + m];
        const th = Math.tanh(s);
        zs[at3(i, n, m, M)] = s;
        G[at3(i, n, m, M)] = th + s * (1 - th * th);
        lossHand += th * s;
      }
    }
  }
  const dx = new Array<number>(B * N * K).fill(0); // ∂L/∂xᵢₙₖ = Σₘ Gᵢₙₘ Wₖₘ        (G · Wᵀ)
  const dW = new Array<number>(K * M).fill(0); //     ∂L/∂Wₖₘ = Σᵢₙ xᵢₙₖ Gᵢₙₘ        (summed over the batch)
  const db = new Array<number>(M).fill(0); //         ∂L/∂bₘ  = Σᵢₙ Gᵢₙₘ             (summed over batch and rows)
  for (let i = 0; i < B; i++) {
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        const g = G[at3(i, n, m, M)];
        db[m] += g;
        for (let k = 0; k < K; k++) {
          dx[at3(i, n, k, K)] += g * Ws[k * M + m];
          dW[k * M + m] += xs[at3(i, n, k, K)] * g;
        }
      }
    }
  }

  log(`gradients: Wedge's backward() beside the closed form, in plain JS (✓: |Δ| ≤ ${ATOL} + ${RTOL}·|hand|)`);
  log(`    ${'element'.padEnd(14)} ${'wedge'.padStart(17)}  ${'hand'.padStart(17)}`);
  const checks = [
    { u: loss, formula: 'L = Σ tanh(z)·z (the value itself)', wedge: [loss.item()], hand: [lossHand] },
    { u: b, formula: '∂L/∂bₘ = Σᵢₙ Gᵢₙₘ,  G = tanh z + z·(1 − tanh² z)', wedge: grad(b), hand: db },
    { u: W, formula: '∂L/∂Wₖₘ = Σᵢₙ xᵢₙₖ·Gᵢₙₘ', wedge: grad(W), hand: dW },
    { u: x, formula: '∂L/∂xᵢₙₖ = Σₘ Gᵢₙₘ·Wₖₘ', wedge: grad(x), hand: dx },
  ];
  let allOk = true;
  for (const { u, formula, wedge, hand } of checks) {
    log(`  ${nameOf(u)} ${fmtShape(u.shape)}   ${formula}`);
    const { lines, ok } = compareGradient(nameOf(u), u.shape, wedge, hand);
    lines.forEach((line) => log(line));
    allOk &&= ok;
  }
  log(allOk ? 'all gradients agree ✓' : 'SOME GRADIENTS DISAGREE ✗');
  log('');

  log(`graph: ${out} (${order.length} nodes; render with: dot -Tsvg ${out} -o chain_rule.svg)`);
  log(versions(seed));
  return allOk ? 0 : 1;
}

/** The label line every example ends with: seed, versions, machine and commit. */
function versions(seed: number): string {
  const core = JSON.parse(readFileSync(resolve(REPO_ROOT, 'packages', 'core', 'package.json'), 'utf8')) as { version: string };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout (a tarball): say so rather than fail
  }
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  return `seed ${seed} · @wedge/core ${core.version} · node ${process.version} · ${platform()}-${arch()} ${cpu} · commit ${commit}`;
}

const fmtNum = (v: number): string => v.toFixed(12).padStart(17);

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  }
}
