// toDot: the graph behind a tensor as Graphviz text (`dot -Tsvg graph.dot > graph.svg`).
import { fmtShape } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { topologicalOrder } from './engine.ts';

/**
 * Graphviz source of the tape that produced `root`: boxes for ops, ellipses for leaves.
 * @example writeFileSync('graph.dot', toDot(loss))
 */
export function toDot(root: Tensor, names: Map<Tensor, string> = new Map()): string {
  const order = topologicalOrder(root);
  const id = new Map(order.map((t, i) => [t, `t${i}`]));
  const lines = ['digraph wedge {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];'];
  for (const t of order) {
    const label = `${names.get(t) ?? (t.node ? t.node.op : 'leaf')}\\n${fmtShape(t.shape)} ${t.dtype}`;
    lines.push(`  ${id.get(t)} [label="${label}", shape=${t.node ? 'box' : 'ellipse'}];`);
    t.node?.inputs.forEach((x, k) => {
      if (id.has(x)) lines.push(`  ${id.get(x)} -> ${id.get(t)} [label="${t.node!.inputNames[k]}"];`);
    });
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
