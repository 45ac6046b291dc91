import { randn, manualSeed, setBackend, matmul, setNumThreads } from '@wedge/core';
manualSeed(1);
setBackend('wasm');
const cases: [number[], number[], string][] = [[[256, 256], [256, 256], 'nn'], [[512, 512], [512, 512], 'nn'], [[128, 63, 16], [128, 16, 63], 'attn'], [[128, 63, 63], [128, 63, 16], 'attn2']];
for (const th of [1, 2]) {
  setNumThreads(th);
  for (const [sa, sb, label] of cases) {
    const a = randn(sa), b = randn(sb);
    for (const tr of ['nn', 'tn', 'nt']) {
      const A = tr === 'tn' ? a.mT.contiguous().mT : a;
      const B = tr === 'nt' ? b.mT.contiguous().mT : b;
      const flops = 2 * sa.slice(0, -1).reduce((x, y) => x * y, 1) * sa[sa.length - 1] * sb[sb.length - 1];
      let best = Infinity;
      for (let r = 0; r < 8; r++) { const t0 = performance.now(); const c = matmul(A, B); best = Math.min(best, performance.now() - t0); c.dispose(); }
      console.log(`t${th} ${label} ${sa.join('x')}@${sb.join('x')} ${tr}: ${(flops / best / 1e6).toFixed(1)} GFLOP/s`);
    }
  }
}
