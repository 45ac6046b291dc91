#!/usr/bin/env node
// Runs the vitest suite. Without a display, it runs under `xvfb-run -a` when that exists, so the GPU
// tests get a real headless GL context (Mesa); elsewhere the GL tests skip with a message.
import { spawnSync } from 'node:child_process';

const args = ['vitest', 'run', ...process.argv.slice(2)];
const hasXvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0;
const wrap = !process.env.DISPLAY && hasXvfb && process.platform === 'linux';
const [cmd, cmdArgs] = wrap ? ['xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', 'npx', ...args]] : ['npx', args];
if (!wrap && !process.env.DISPLAY) console.error('[wedge] no DISPLAY and no xvfb-run: GPU tests that need GL will skip');
const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
process.exit(result.status ?? 1);
