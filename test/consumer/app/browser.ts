// Browser entry of the consumer: the same training, its summary written into the page (and onto
// window.__result for the test that drives the page).
import { train } from './train.js';

try {
  const summary = train();
  document.body.textContent = JSON.stringify(summary);
  (window as unknown as { __result: unknown }).__result = summary;
} catch (e) {
  (window as unknown as { __error: string }).__error = String(e instanceof Error ? e.stack : e);
}
