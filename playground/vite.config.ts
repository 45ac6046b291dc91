// Vite builds the playground straight from the workspace's TypeScript sources. COOP + COEP make the
// page cross-origin isolated (SharedArrayBuffer, hence WebAssembly threads); any static server that
// sends the same two headers serves playground/dist/ as well (see the README).
import { defineConfig } from 'vite';

export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './', // relative URLs: the site works from any folder of any static server
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
