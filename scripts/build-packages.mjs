#!/usr/bin/env node
// Builds every packages/* (or those named: `node scripts/build-packages.mjs core gpu`) with tsc into
// its dist/: ESM JavaScript, .d.ts and source maps (sources inlined). Dependencies build first, as
// each package's tsconfig.build.json resolves @wedge/core to core's dist types.
// NOTE: tsc's rewriteRelativeImportExtensions rewrites './x.ts' to './x.js' in the JavaScript only;
// the .d.ts keep '.ts', which a consumer without allowImportingTsExtensions cannot follow, so the
// declarations are rewritten here (same length: the declaration maps stay exact).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** Every packages/* (each needs a tsconfig.build.json), dependencies before dependents. */
function buildOrder() {
  const dirs = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
  for (const d of dirs) {
    if (!existsSync(join(root, 'packages', d, 'tsconfig.build.json'))) {
      throw new Error(`build-packages: packages/${d} has no tsconfig.build.json (one line: { "extends": "../tsconfig.build.json" })`);
    }
  }
  const manifests = new Map(dirs.map((d) => [d, JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8'))]));
  const byName = new Map([...manifests].map(([d, m]) => [m.name, d]));
  const order = [];
  const visit = (d, path = []) => {
    if (order.includes(d)) return;
    if (path.includes(d)) throw new Error(`build-packages: dependency cycle ${[...path, d].join(' → ')}`);
    const m = manifests.get(d);
    for (const dep of Object.keys({ ...m.dependencies, ...m.peerDependencies })) if (byName.has(dep)) visit(byName.get(dep), [...path, d]);
    order.push(d);
  };
  dirs.forEach((d) => visit(d));
  return order;
}

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* files(join(dir, e.name));
    else yield join(dir, e.name);
  }
}

const wanted = process.argv.slice(2);
if (wanted[0] === '--order') {
  console.log(buildOrder().join(' ')); // for scripts that pack in dependency order
  process.exit(0);
}
for (const d of buildOrder()) {
  if (wanted.length && !wanted.includes(d)) continue;
  const dir = join(root, 'packages', d);
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-packages: tsc failed for packages/${d}`);
    process.exit(r.status ?? 1);
  }
  let n = 0;
  for (const f of files(join(dir, 'dist'))) {
    if (!f.endsWith('.d.ts')) continue;
    const text = readFileSync(f, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1$2.js$3');
    if (fixed !== text) writeFileSync(f, fixed);
    n++;
  }
  console.log(`build-packages: packages/${d} → dist/ (${n} declaration files)`);
}
