// The README's TypeScript snippets run as written (API tour, modules, the experiment), so the
// front page cannot drift from the API. Snippets run in a temp dir: files they write land there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
/** ```ts blocks that import from a package (the five-line checkpoint example is run by its own test). */
const tsBlocks = (text: string) => [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((s) => s.includes("from '@wedge/"));
const snippets = tsBlocks(readme);
/** The same for each package's README (what npm shows), as [package, snippet]. */
const packageSnippets = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'README.md')))
  .flatMap((d) => tsBlocks(readFileSync(join(root, 'packages', d, 'README.md'), 'utf8')).map((code, i) => [`${d} ${i}`, code]));

describe('README', () => {
  it('has the two-command quick start', () => {
    const quick = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1].trim().split('\n') ?? [];
    expect(quick).toEqual([
      'npm i -g pnpm@12.4.2 && pnpm install && pnpm --filter examples copy-task',
      'bash scripts/setup-test-env.sh && pnpm test',
    ]);
  });

  it.each([...snippets.map((s, i) => [String(i), s]), ...packageSnippets.map(([d, s]) => [`in packages/${d.split(' ')[0]}/README.md #${d.split(' ')[1]}`, s])])('TypeScript snippet %s runs as written', (_i, code) => {
    const dir = mkdtempSync(join(tmpdir(), 'wedge-readme-'));
    try {
      // run from a file inside the repo so the workspace packages resolve; cwd is the temp dir
      const file = join(root, 'test', `.readme_snippet_${process.pid}_${_i.replace(/\W+/g, '_')}.ts`);
      const body = code.replace(/^useGpu\(\);.*$/m, ''); // needs GL; the gpu tests cover it
      writeFileSync(file, body.replace(/steps: 100/, 'steps: 2, evalEvery: 1, evalSize: 4, batchSize: 4, seqLen: 8'));
      try {
        execFileSync(join(root, 'node_modules/.bin/tsx'), [file], { cwd: dir, stdio: 'pipe', timeout: 120_000 });
      } finally {
        rmSync(file, { force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
