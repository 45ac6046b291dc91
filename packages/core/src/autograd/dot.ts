// toDot: the graph behind a tensor as Graphviz text (`dot -Tsvg graph.dot > graph.svg`). It draws
// exactly what backward() walks: the tensors of topologicalOrder(root), plus their constant inputs.
import { fmtShape } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { topologicalOrder } from './engine.ts';

/**
 * Graphviz source of the tape that produced `root`, inputs before outputs (left to right):
 * - a box per recorded op, labelled `name = op` (or just `op`), shape and dtype; dashed once
 *   backward() has freed it (a second backward through it would throw);
 * - a solid ellipse per leaf that requires grad (where `.grad` accumulates);
 * - a dashed grey ellipse per constant input (no gradient flows into it; a 0-d CPU one shows its value);
 * - an edge per input, labelled with the op's name for that input (`a`, `b`, `x`, …), the key its
 *   backward returns a gradient under.
 * Node ids are `t0, t1, …` in topological order (root last) and `c0, c1, …` for constants.
 * @example
 * const names = new Map([[x, 'x'], [w, 'w'], [loss, 'loss']]);
 * writeFileSync('graph.dot', toDot(loss, names)); // then: dot -Tsvg graph.dot > graph.svg
 */
export function toDot(root: Tensor, names: ReadonlyMap<Tensor, string> = new Map()): string {
  const order = topologicalOrder(root);
  const id = new Map(order.map((t, i) => [t, `t${i}`]));
  const lines = ['digraph wedge {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];'];
  const describe = (t: Tensor): string => `${fmtShape(t.shape)} ${t.dtype}`;

  for (const t of order) {
    const name = names.get(t);
    const node = t.node;
    if (node === null) {
      lines.push(`  ${id.get(t)} [label="${esc(name ?? 'leaf')}\\n${describe(t)}", shape=ellipse];`);
      continue;
    }
    const title = name === undefined ? node.op : `${name} = ${node.op}`;
    const freed = node.freed ? ', style=dashed' : '';
    lines.push(`  ${id.get(t)} [label="${esc(title)}\\n${describe(t)}${node.freed ? '\\n(freed)' : ''}", shape=box${freed}];`);
    node.inputs.forEach((x, k) => {
      let from = id.get(x);
      if (from === undefined) {
        // an input that does not require grad: drawn once, but never part of the sweep
        from = `c${id.size - order.length}`;
        id.set(x, from);
        const label = names.get(x) ?? (showsValue(x) ? String(x.item()) : 'const');
        lines.push(`  ${from} [label="${esc(label)}\\n${describe(x)}", shape=ellipse, style=dashed, color=gray50, fontcolor=gray35];`);
      }
      lines.push(`  ${from} -> ${id.get(t)} [label="${esc(node.inputNames[k])}"];`);
    });
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** A 0-d constant on the CPU shows its value (no device read-back just to draw a graph). */
const showsValue = (x: Tensor): boolean => x.ndim === 0 && x.device === 'cpu' && !x.disposed;

/** Escape a label for a double-quoted DOT string. */
const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
