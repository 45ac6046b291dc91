// The API reference's coverage: every symbol a package entry point exports, and every public member
// of Tensor, Module and Optimizer, has a doc comment with an @example (scripts/doc-coverage.mjs
// counts them; `pnpm docs` builds the reference from the same comments with TypeDoc).
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { MEMBER_CLASSES, docCoverage, entryPoints } from '../../scripts/doc-coverage.mjs';

interface Item { name: string; where: string; text: boolean; example: boolean }
const { total, documented, missing } = docCoverage() as { total: number; documented: number; missing: Item[] };

describe('API docs', () => {
  it('reads every entry point of every package', () => {
    const specs = (entryPoints() as [string, string][]).map(([s]) => s);
    for (const s of ['@wedge/core', '@wedge/core/node', '@wedge/core/testing', '@wedge/gpu', '@wedge/models']) expect(specs).toContain(s);
    expect(MEMBER_CLASSES).toEqual(['Tensor', 'Module', 'Optimizer']);
    expect(total).toBeGreaterThan(350); // the count is real: every export and member is seen
  });

  it('every export and every public Tensor/Module/Optimizer member has a doc comment with an @example', () => {
    const lines = missing.map((m) => `${m.where}  ${m.name}: ${m.text ? 'no @example' : 'no doc comment'}`);
    expect(lines, `${documented} of ${total} documented`).toEqual([]);
  });
});
