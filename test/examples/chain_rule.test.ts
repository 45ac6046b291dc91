// The teaching material runs and tells the truth: the chain-rule example (tape order, gradients, its
// .dot file), toDot's output, and docs/autodiff.md's links to code lines.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad, ones, tensor, toDot } from '@wedge/core';
import { compareGradient, parseArgs } from '../../examples/chain_rule.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---- a small parser for the DOT that toDot writes (a strict subset of the Graphviz grammar) ----------

interface Dot {
  name: string;
  nodes: Map<string, Record<string, string>>;
  edges: { from: string; to: string; attrs: Record<string, string> }[];
}

/** Attribute list `k=v, k="v"` → record; throws on anything it does not fully consume. */
function parseAttrs(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /\s*(\w+)=("(?:[^"\\]|\\.)*"|[\w.]+)\s*(,|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    attrs[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : m[2];
  }
  if (re.lastIndex !== text.length) throw new Error(`dot: cannot parse attributes '${text}'`);
  return attrs;
}

/** Parse a digraph: one statement a line, nodes declared before the edges that use them. */
function parseDot(text: string): Dot {
  const lines = text.trimEnd().split('\n');
  const head = /^digraph\s+(\w+)\s*\{$/.exec(lines[0]);
  if (head === null) throw new Error(`dot: expected 'digraph NAME {', got '${lines[0]}'`);
  if (lines[lines.length - 1] !== '}') throw new Error(`dot: expected a closing '}', got '${lines[lines.length - 1]}'`);
  const dot: Dot = { name: head[1], nodes: new Map(), edges: [] };
  for (const raw of lines.slice(1, -1)) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (/^\w+=\w+;$/.test(line)) continue; // graph attribute (rankdir=LR;)
    if ((m = /^(?:node|edge|graph)\s*\[(.*)\];$/.exec(line))) {
      parseAttrs(m[1]);
    } else if ((m = /^(\w+)\s*->\s*(\w+)\s*\[(.*)\];$/.exec(line))) {
      for (const id of [m[1], m[2]]) if (!dot.nodes.has(id)) throw new Error(`dot: edge uses undeclared node ${id}`);
      dot.edges.push({ from: m[1], to: m[2], attrs: parseAttrs(m[3]) });
    } else if ((m = /^(\w+)\s*\[(.*)\];$/.exec(line))) {
      if (dot.nodes.has(m[1])) throw new Error(`dot: node ${m[1]} declared twice`);
      dot.nodes.set(m[1], parseAttrs(m[2]));
    } else {
      throw new Error(`dot: unexpected statement '${line}'`);
    }
  }
  return dot;
}

const hasGraphviz = spawnSync('dot', ['-V']).status === 0;

// ---- the example, run as a user runs it ----------------------------------------------------------

interface TapeRow {
  step: number;
  name: string;
  op: string;
  inputs: string[];
  shape: string;
}

describe('examples/chain_rule.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wedge-chain-rule-'));
  const dotPath = join(dir, 'graph.dot');
  let stdout = '';
  let status: number | null = null;
  let rows: TapeRow[] = [];

  beforeAll(() => {
    const run = spawnSync('npx', ['tsx', 'examples/chain_rule.ts', '--seed', '11', '--out', dotPath], { cwd: ROOT, encoding: 'utf8' });
    stdout = run.stdout;
    status = run.status;
    if (status !== 0) console.error(run.stderr);
    // tape rows: "   6  h          matmul   a=x [2, 2, 3], b=expand(W) [2, 3, 2]   [2, 2, 2]"
    const tape = stdout.slice(stdout.indexOf('tape,'), stdout.indexOf('gradients:'));
    rows = [...tape.matchAll(/^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*?)\s+(\[[\d, ]*\])$/gm)].map((m) => ({
      step: Number(m[1]),
      name: m[2],
      op: m[3],
      inputs: m[3] === 'leaf' ? [] : [...m[4].matchAll(/\w+=(\S+) \[/g)].map((i) => i[1]),
      shape: m[5],
    }));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and prints its seed and versions', () => {
    expect(status).toBe(0);
    expect(stdout).toMatch(/seed 11 · @wedge\/core \d+\.\d+\.\d+ · node v\d+/);
  });

  it('lists the tape from the loss back to the leaves: every node before all of its inputs', () => {
    // L = sum(tanh(z)·z), z = matmul(x, expand(W)) + b: 3 leaves and 6 ops, each tensor once
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rows[0]).toMatchObject({ name: 'loss', op: 'sum', shape: '[]' });
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
    expect(rows.filter((r) => r.op === 'leaf').map((r) => r.name).sort()).toEqual(['W', 'b', 'x']);
    const position = new Map(rows.map((r, i) => [r.name, i]));
    for (const [i, row] of rows.entries()) {
      for (const input of row.inputs) {
        expect(position.get(input), `${row.name} lists input ${input}`).toBeGreaterThan(i);
      }
    }
    // z is used by both tanh and mul, yet is visited once; W's broadcast shows as an expand node
    expect(rows.filter((r) => r.inputs.includes('z')).map((r) => r.op).sort()).toEqual(['mul', 'tanh']);
    expect(rows.find((r) => r.op === 'expand')).toMatchObject({ inputs: ['W'], shape: '[2, 3, 2]' });
  });

  it('prints every gradient beside its hand-derived value, all ✓', () => {
    const marks = stdout.split('\n').filter((l) => /[✓✗]$/.test(l) && /^\s+\w+(\[[\d, ]*\])?\s+-?\d/.test(l));
    // the loss, then b [2], W [3, 2] and x [2, 2, 3] element by element
    expect(marks).toHaveLength(1 + 2 + 6 + 12);
    for (const line of marks) {
      expect(line.endsWith('✓'), line).toBe(true);
      const [wedge, hand] = line.trim().split(/\s+/).slice(-3, -1).map(Number);
      expect(Math.abs(wedge - hand)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(hand)));
    }
    expect(stdout).toContain('all gradients agree ✓');
  });

  it('writes a digraph with one node per tape entry and one edge per op input', () => {
    expect(stdout).toContain(`graph: ${dotPath} (9 nodes;`);
    const dot = parseDot(readFileSync(dotPath, 'utf8'));
    expect(dot.name).toBe('wedge');
    expect(dot.nodes.size).toBe(rows.length);
    expect(dot.edges).toHaveLength(rows.reduce((n, r) => n + r.inputs.length, 0));
    // labels carry the same names as the printed tape; drawn before backward(), so nothing is freed
    const labels = [...dot.nodes.values()].map((a) => a.label.split('\n')[0].replace(/^(\S+) = \w+$/, '$1'));
    expect(labels.sort()).toEqual(rows.map((r) => r.name).sort());
    expect([...dot.nodes.values()].some((a) => a.label.includes('freed'))).toBe(false);
  });

  it.skipIf(!hasGraphviz)('renders with Graphviz (skipped without it: apt-get install graphviz)', () => {
    const svg = spawnSync('dot', ['-Tsvg', dotPath], { encoding: 'utf8' });
    expect(svg.stderr).toBe('');
    expect(svg.status).toBe(0);
    expect(svg.stdout).toContain('<svg');
  });

  it('marks a disagreeing gradient ✗ and fails the check', () => {
    const good = compareGradient('w', [2], [1, 2], [1, 2 + 1e-14]);
    expect(good.ok).toBe(true);
    const bad = compareGradient('w', [2], [1, 2], [1, 2.001]);
    expect(bad.ok).toBe(false);
    expect(bad.lines[0]).toMatch(/^ {4}w\[0\] .* ✓$/);
    expect(bad.lines[1]).toMatch(/^ {4}w\[1\] .* ✗$/);
    expect(compareGradient('w', [2], [1, 2], [1]).ok).toBe(false);
  });

  it('reads --seed and --out, and rejects anything else', () => {
    expect(parseArgs(['--', '--seed', '5', '--out', '/tmp/g.dot'])).toEqual({ seed: 5, out: '/tmp/g.dot' });
    expect(parseArgs([]).out).toBe(join(ROOT, 'runs', 'chain_rule.dot'));
    expect(() => parseArgs(['--seed', 'x'])).toThrow("chain-rule: unknown or incomplete argument '--seed'");
  });
});

// ---- toDot on its own -----------------------------------------------------------------------------

describe('toDot', () => {
  it('draws y = a·b + sin(a) with a once, two edges out of it, and the root last', () => {
    const a = tensor(2, { requiresGrad: true, dtype: 'float64' });
    const b = tensor(3, { requiresGrad: true, dtype: 'float64' });
    const y = a.mul(b).add(a.sin());
    const text = toDot(y, new Map([[a, 'a'], [b, 'b'], [y, 'y']]));
    expect(text.split('\n').slice(0, 3)).toEqual(['digraph wedge {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];']);
    expect(text.endsWith('}\n')).toBe(true);
    const dot = parseDot(text);
    expect([...dot.nodes.entries()].map(([id, at]) => [id, at.label, at.shape])).toEqual([
      ['t0', 'a\n[] float64', 'ellipse'],
      ['t1', 'b\n[] float64', 'ellipse'],
      ['t2', 'mul\n[] float64', 'box'],
      ['t3', 'sin\n[] float64', 'box'],
      ['t4', 'y = add\n[] float64', 'box'],
    ]);
    expect(dot.edges.map((e) => `${e.from}-${e.attrs.label}->${e.to}`)).toEqual([
      't0-a->t2', 't1-b->t2', 't0-x->t3', 't2-a->t4', 't3-b->t4',
    ]);
  });

  it('draws inputs that need no gradient as dashed constants, with the value of a 0-d one', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2.5).add(ones([2]));
    const dot = parseDot(toDot(y));
    const constants = [...dot.nodes.entries()].filter(([id]) => id.startsWith('c'));
    expect(constants.map(([id, at]) => [id, at.label, at.style])).toEqual([
      ['c0', '2.5\n[] float32', 'dashed'],
      ['c1', 'const\n[2] float32', 'dashed'],
    ]);
    expect(dot.edges.filter((e) => e.from.startsWith('c')).map((e) => e.attrs.label)).toEqual(['b', 'b']);
  });

  it('marks ops freed by backward() as dashed, and keeps them solid under retainGraph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const kept = x.exp().sum();
    kept.backward(undefined, { retainGraph: true });
    expect(toDot(kept)).not.toContain('freed');
    const freed = x.exp().sum();
    freed.backward();
    const boxes = [...parseDot(toDot(freed)).nodes.values()].filter((a) => a.shape === 'box');
    expect(boxes.map((a) => [a.label.split('\n')[0], a.style, a.label.endsWith('(freed)')])).toEqual([
      ['exp', 'dashed', true],
      ['sum', 'dashed', true],
    ]);
  });

  it('escapes quotes and backslashes in names', () => {
    const x = tensor(1, { requiresGrad: true });
    const text = toDot(x.neg(), new Map([[x, 'say "hi" \\o/']]));
    expect(text).toContain('label="say \\"hi\\" \\\\o/\\n[] float32"');
    expect(parseDot(text).nodes.get('t0')!.label).toBe('say "hi" \\o/\n[] float32');
  });

  it('draws a tensor made under noGrad as a lone node: there is no tape behind it', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const dot = parseDot(toDot(noGrad(() => x.mul(x))));
    expect([...dot.nodes.values()].map((a) => a.label)).toEqual(['leaf\n[2] float32']);
    expect(dot.edges).toEqual([]);
  });
});

// ---- docs/autodiff.md points at code that is really there ----------------------------------------

describe('docs/autodiff.md', () => {
  const docPath = join(ROOT, 'docs', 'autodiff.md');
  const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  // [text](../path#L12) or [text](../path#L12-L15); the text may be a code span holding brackets
  const links = [...doc.matchAll(/\[(`[^`]+`|[^\]`]+)\]\((\.\.?\/[^)#\s]+)(?:#L(\d+)(?:-L(\d+))?)?\)/g)];

  it('links to files that exist, at lines that exist', () => {
    expect(links.length).toBeGreaterThan(10);
    for (const [, , target, from, to] of links) {
      const path = resolve(dirname(docPath), target);
      expect(existsSync(path), `${target} exists`).toBe(true);
      if (from === undefined) continue;
      const count = readFileSync(path, 'utf8').split('\n').length;
      expect(Number(from), `${target}#L${from}`).toBeLessThanOrEqual(count);
      if (to !== undefined) expect(Number(to), `${target}#L${from}-L${to}`).toBeGreaterThanOrEqual(Number(from));
      if (to !== undefined) expect(Number(to), `${target}#L${from}-L${to}`).toBeLessThanOrEqual(count);
    }
  });

  it('quotes, in each link to a line, the code that is on that line', () => {
    // [`const gOut = grads.get(t)`](../packages/core/src/autograd/engine.ts#L80): the text is on L80
    let checked = 0;
    for (const [, text, target, from] of links) {
      const code = /^`([^`]+)`$/.exec(text);
      if (from === undefined || code === null) continue;
      const line = readFileSync(resolve(dirname(docPath), target), 'utf8').split('\n')[Number(from) - 1];
      expect(line, `${target}#L${from} should contain \`${code[1]}\` (update the doc's line number)`).toContain(code[1]);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });
});
