// The packages as a user gets them: build and `pnpm pack` every packages/*, install the tarballs
// into a fresh npm project outside the repository (third-party dependencies from the registry), then
// (a) train a small model with plain `node`, (b) type-check the consumer under an unmodified
// `tsc --init` config (and with skipLibCheck off, and under create-vite's config) with 0 errors, (c) bundle it for a
// browser with esbuild and run that bundle in Chromium. Also checks each tarball's contents.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserProblem, launchChromium, pageResult, serve } from '../helpers/browser.ts';

const root = resolve(import.meta.dirname, '../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'wedge-consumer-'));
const app = join(work, 'app');
const packs = join(work, 'packs');
const order = execFileSync(process.execPath, [join(root, 'scripts/build-packages.mjs'), '--order'], { encoding: 'utf8' }).trim().split(' ');

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  // a user's environment: not the suite's WEDGE_BACKEND (scripts/test.mjs sets it per pass)
  const { WEDGE_BACKEND: _, ...env } = process.env;
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...env, npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Unpacked manifests and file lists of the tarballs, by package directory name. */
const tarballs = new Map<string, { file: string; manifest: Record<string, any>; files: string[] }>();
let compiled: ReturnType<typeof spawnSync>;

beforeAll(() => {
  mkdirSync(packs);
  // pnpm pack runs each package's prepack (tsc build into dist/, LICENSE and CHANGELOG copied in)
  // and applies publishConfig (exports → dist/) and workspace:* → the version, as a release would.
  for (const d of order) run('pnpm', ['pack', '--pack-destination', packs], join(root, 'packages', d));
  for (const d of order) {
    const name = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')).name as string;
    const file = readdirSync(packs).find((f) => f.startsWith(name.replace('@', '').replace('/', '-') + '-'))!;
    const files = run('tar', ['tzf', join(packs, file)], work).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    const manifest = JSON.parse(run('tar', ['xzOf', join(packs, file), 'package/package.json'], work));
    tarballs.set(d, { file: join(packs, file), manifest, files });
  }
  cpSync(join(import.meta.dirname, 'app'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'wedge-consumer', private: true, type: 'module' }, null, 2));
  // --omit=optional: gpu.js's optional native `gl` (headless GL in Node) is not wanted here;
  // --prefer-offline: third-party packages come from npm's cache when it has them.
  run('npm', ['install', '--omit=optional', '--no-package-lock', '--prefer-offline', ...order.map((d) => tarballs.get(d)!.file)], app, 300_000);
  run(process.execPath, [tsc, '--init'], app);
  // the consumer's build under that untouched config: type-checks (b) and emits the JS (a) runs
  compiled = spawnSync(process.execPath, [tsc, '-p', '.', '--outDir', 'out'], { cwd: app, encoding: 'utf8' });
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarballs', () => {
  it.each(order)('%s: built ESM with types, LICENSE, README, CHANGELOG, and no TypeScript sources', (d) => {
    const { manifest: m, files } = tarballs.get(d)!;
    expect(m.version).toBe('0.2.0');
    expect(m.license).toBe('MIT');
    expect(m.type).toBe('module');
    // false, or the files that register kernels or backends when imported (bundlers must keep those)
    if (m.sideEffects !== false) for (const f of m.sideEffects as string[]) expect(f).toMatch(/^\.\/(src|dist)\/(kernels\/\*|backend\/wasm\/index)\.(ts|js)$/);
    expect(m.repository?.directory).toBe(`packages/${d}`);
    expect(m.engines?.node).toMatch(/^>=20(\.\d+)*$/);
    for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    for (const [entry, target] of Object.entries(m.exports as Record<string, string | { types: string; default: string }>)) {
      if (entry === './package.json') continue;
      expect(typeof target, entry).toBe('object');
      const { types, default: js } = target as { types: string; default: string };
      expect([types.endsWith('.d.ts'), js.endsWith('.js')], entry).toEqual([true, true]);
      for (const f of [types, js, `${js}.map`]) expect(files, `${entry} → ${f}`).toContain(f.replace(/^\.\//, ''));
    }
    for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies } as Record<string, string>)) {
      expect(range, dep).not.toMatch(/^workspace:/);
    }
  });

  it('declarations import no .ts files and reference no Node types, outside the Node entry', () => {
    for (const d of order) {
      for (const f of tarballs.get(d)!.files.filter((f) => f.endsWith('.d.ts'))) {
        const text = readFileSync(join(app, 'node_modules', tarballs.get(d)!.manifest.name, f), 'utf8');
        expect(text, f).not.toMatch(/from\s+['"]\.{1,2}\/[^'"]*\.ts['"]/);
        expect(text, f).not.toMatch(/reference types="node"|NodeJS\.|from 'node:/);
      }
    }
  });
});

describe('a fresh npm project using the tarballs', () => {
  it('(a) trains a small model under plain node, with checkpoints through @wedge/core/node', () => {
    expect(compiled.status, String(compiled.stdout)).toBe(0);
    const out = JSON.parse(run(process.execPath, ['out/main.js'], app).trim().split('\n').pop()!);
    expect(out.steps).toBe(80);
    expect(out.backend).toBe('wasm'); // core's default CPU engine loaded
    expect(out.first).toBeCloseTo(Math.log(8), 1); // uniform predictions at the start
    expect(out.last).toBeLessThan(out.first - 0.3);
    expect(out.reloadedSame).toBe(true);
    expect([out.gpuMode, out.gpuMatchesCpu]).toEqual(['cpu', true]);
    expect(out.fileRoundTrip).toEqual([[1, 2], [3, 4]]);
  });

  it('loads from CommonJS too (require of an ES module, Node ≥ 20.19)', () => {
    const out = run(process.execPath, ['-e', "const { tensor } = require('@wedge/core'); console.log(tensor([1, 2, 3]).sum().item())"], app);
    expect(out.trim().split('\n').pop()).toBe('6');
  });

  it('(b) type-checks under the default `tsc --init` config with 0 errors', () => {
    const config = readFileSync(join(app, 'tsconfig.json'), 'utf8');
    expect(config).toMatch(/"module": "nodenext"/); // untouched output of tsc --init
    expect(config).toMatch(/"types": \[\]/); // so no @types/node either
    expect(String(compiled.stdout) + String(compiled.stderr)).toBe('');
    expect(compiled.status).toBe(0);
  });

  it('(b) and with skipLibCheck off, so the shipped declarations themselves are checked', () => {
    const r = spawnSync(process.execPath, [tsc, '-p', '.', '--noEmit', '--skipLibCheck', 'false'], { cwd: app, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("(b) and under create-vite's vanilla-ts tsconfig (erasableSyntaxOnly, DOM, bundler resolution)", () => {
    // the compiler options of create-vite's vanilla-ts template (its vite/client types aside)
    const vite = {
      compilerOptions: {
        target: 'ES2022', useDefineForClassFields: true, module: 'ESNext', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [],
        skipLibCheck: true, moduleResolution: 'bundler', allowImportingTsExtensions: true, verbatimModuleSyntax: true,
        moduleDetection: 'force', noEmit: true, strict: true, noUnusedLocals: true, noUnusedParameters: true,
        erasableSyntaxOnly: true, noFallthroughCasesInSwitch: true, noUncheckedSideEffectImports: true,
      },
      include: ['browser.ts', 'train.ts'],
    };
    writeFileSync(join(app, 'tsconfig.vite.json'), JSON.stringify(vite, null, 2));
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.vite.json'], { cwd: app, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('(c) bundles for a browser with esbuild: nothing from Node, and the bundle trains in Chromium', async (ctx) => {
    const result = await build({
      entryPoints: [join(app, 'browser.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outfile: join(app, 'dist/browser.js'),
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.includes('node_modules/@wedge/core/dist/index.js'))).toBe(true);
    expect(inputs.filter((f) => /^node:|safetensors_node|\/src\/.*\.ts$/.test(f))).toEqual([]);
    const bundle = readFileSync(join(app, 'dist/browser.js'), 'utf8');
    expect(bundle).not.toMatch(/^import [^;]*from ['"]node:/m); // (a string of worker code may mention one)

    const problem = browserProblem();
    if (problem) return ctx.skip(problem);
    const server = await serve({ '/index.html': '<!doctype html><body><script type="module" src="/browser.js"></script>', '/browser.js': bundle });
    const browser = await launchChromium();
    try {
      const { result: summary } = await pageResult(browser, `${server.url}/`);
      const s = summary as { backend: string; first: number; last: number; reloadedSame: boolean; gpuMatchesCpu: boolean };
      expect(s.last).toBeLessThan(s.first - 0.3);
      expect([s.reloadedSame, s.gpuMatchesCpu]).toEqual([true, true]);
      expect(s.backend).toBe('wasm'); // the bundler kept the wasm backend's registration (sideEffects)
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
