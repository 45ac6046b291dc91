import { randn, Generator, setBackend } from '@wedge/core';
import { useGpu } from '@wedge/gpu';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { GPU } = require('gpu.js');
useGpu({ cpuHandoffSize: 0 });
const n = 256;
const g = new Generator(0);
const a = randn([n, n], { generator: g }), b = randn([n, n], { generator: g });
const gpu = new GPU({ mode: 'headlessgl' });
const plain = gpu.createKernel(function (this: any, x: number[][], y: number[][]) {
  let s = 0;
  for (let k = 0; k < 256; k++) s += x[this.thread.y][k] * y[k][this.thread.x];
  return s;
}, { output: [n, n], pipeline: true, immutable: true, precision: 'single' });
const A2 = Array.from({ length: n }, (_, i) => a.data().subarray(i * n, i * n + n));
const B2 = Array.from({ length: n }, (_, i) => b.data().subarray(i * n, i * n + n));
const tp = (label: string, fn: () => void) => { fn(); const ts = []; for (let i = 0; i < 5; i++) { const t0 = performance.now(); fn(); ts.push(performance.now() - t0); } ts.sort((x, y) => x - y); console.log(label, ts[2].toFixed(1), 'ms', (2 * n ** 3 / ts[2] / 1e6).toFixed(2), 'GFLOP/s'); };
for (let r = 0; r < 2; r++) {
  tp('plain gpu.js', () => { const t = plain(A2, B2); t.renderRawOutput(); t.delete(); });
  tp('wedge gpu   ', () => { const y = a.matmul(b); y.data(); y.dispose(); });
}
