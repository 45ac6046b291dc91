// `pnpm docs` builds the API reference with TypeDoc, warnings treated as errors: one module per
// package entry point, and the doc comments' examples on the pages.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'wedge-api-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('builds the reference with no TypeDoc warnings, a module per entry point, examples on the pages', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/docs.mjs'), '--out', out], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  for (const m of ['_wedge_core', '_wedge_core_node', '_wedge_core_testing', '_wedge_gpu', '_wedge_models']) {
    expect(existsSync(join(out, 'modules', `${m}.html`)), m).toBe(true);
  }
  const tensorPage = readFileSync(join(out, 'classes', '_wedge_core.Tensor.html'), 'utf8');
  expect(tensorPage.match(/<h4[^>]*>Example/g)?.length ?? 0).toBeGreaterThan(80); // one per public member
  expect(readFileSync(join(out, 'functions', '_wedge_gpu.useGpu.html'), 'utf8')).toMatch(/Example/);
}, 300_000);
