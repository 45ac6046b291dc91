// Real Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (its own
// browser download is not used), pages served by a tiny static server with the cross-origin
// isolation headers (SharedArrayBuffer needs them). Tests skip, naming the fix, when Chromium is
// missing, and fail instead under WEDGE_REQUIRE_BROWSER=1 (CI sets it).
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WEDGE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_MISSING = `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (scripts/setup-test-env.sh does)`;

/** Why browser tests cannot run here, or null; throws under WEDGE_REQUIRE_BROWSER=1. */
export function browserProblem(): string | null {
  const problem = existsSync(CHROMIUM) ? null : CHROMIUM_MISSING;
  if (problem && process.env.WEDGE_REQUIRE_BROWSER === '1') throw new Error(`WEDGE_REQUIRE_BROWSER=1 but ${problem}`);
  return problem;
}

/**
 * Headless Chromium. WebGL2 there is ANGLE on SwiftShader (software): `--enable-unsafe-swiftshader`
 * keeps Chromium from refusing it when there is no GPU.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', ...extraArgs],
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json', '.wasm': 'application/wasm',
  '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
};

/** Serve `files` (URL path → contents) and files under `dir`, cross-origin isolated. */
export async function serve(files: Record<string, string | Uint8Array>, dir?: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const asked = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const path = asked.endsWith('/') ? `${asked}index.html` : asked;
    let body: string | Uint8Array | undefined = files[path];
    if (body === undefined && dir && !path.includes('..') && existsSync(join(dir, path))) body = readFileSync(join(dir, path));
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    res.end(body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((ok) => server.close(() => ok())) };
}

/**
 * Open `url` and wait until the page sets `window.__result` (or reports an error), collecting its
 * console lines and uncaught errors so a failure says what the page said.
 */
export async function pageResult(browser: Browser, url: string, timeoutMs = 120_000): Promise<{ result: unknown; logs: string[]; page: Page }> {
  const page = await browser.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  try {
    await page.waitForFunction(() => '__result' in globalThis || '__error' in globalThis, null, { timeout: timeoutMs });
  } catch (e) {
    throw new Error(`${url}: no result within ${timeoutMs} ms; the page said:\n${logs.join('\n')}`);
  }
  const error = await page.evaluate(() => (globalThis as { __error?: string }).__error);
  if (error) throw new Error(`${url}: ${error}\n${logs.join('\n')}`);
  const result = await page.evaluate(() => (globalThis as { __result?: unknown }).__result);
  return { result, logs, page };
}
