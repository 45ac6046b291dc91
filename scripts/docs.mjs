#!/usr/bin/env node
// `pnpm docs`: the API reference with TypeDoc, into docs/api/ (or --out DIR), one module per package
// entry point (the `exports` of each packages/*/package.json, the same list scripts/doc-coverage.mjs
// checks). docs/api/ is generated, so it is git-ignored: run this to read it locally.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { entryPoints } from './doc-coverage.mjs';

const root = resolve(import.meta.dirname, '..');
const outAt = process.argv.indexOf('--out');
const out = outAt > 0 ? resolve(process.argv[outAt + 1]) : join(root, 'docs/api');
// Source links come from package.json's `repository`, not from the checkout's git remote: a clone
// without one (or with a local path as `origin`) would otherwise make TypeDoc warn, and warnings fail.
const repo = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).repository.url
  .replace(/^git\+/, '').replace(/\.git$/, '');
const args = [
  join(root, 'node_modules/typedoc/bin/typedoc'),
  ...entryPoints().flatMap(([, file]) => ['--entryPoints', file]),
  '--out', out,
  '--tsconfig', join(root, 'tsconfig.json'),
  '--name', 'Wedge',
  '--readme', join(root, 'README.md'),
  '--excludePrivate', '--excludeProtected', '--excludeInternal',
  '--sort', 'source-order',
  '--sourceLinkTemplate', `${repo}/blob/{gitRevision}/{path}#L{line}`,
  '--highlightLanguages', 'ts', '--highlightLanguages', 'js', '--highlightLanguages', 'sh', '--highlightLanguages', 'python', '--highlightLanguages', 'json',
  '--treatWarningsAsErrors',
];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (r.status === 0) console.log(`docs: the API reference is in ${out}/index.html`);
process.exit(r.status ?? 1);
