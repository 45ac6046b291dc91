// Small DOM helpers shared by the panels (no framework: elements made by hand, updated in place).

/** Create an element with attributes and children. @example el('p', { class: 'note' }, 'Hello') */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/**
 * Run `fn` at most every `minMs`, in a task of its own (a timer, not a shared animation frame: two
 * redraws never add up to one long task). Calls while one is queued fold into it.
 */
export function throttled(fn: () => void, minMs: number): () => void {
  let queued = false;
  let last = -Infinity;
  return () => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      last = performance.now();
      fn();
      performance.measure(`wedge:${fn.name || 'render'}`, { start: last }); // visible in the browser's performance panel
    }, Math.max(0, last + minMs - performance.now()));
  };
}

/** x as a percentage with one decimal. @example pct(0.5) // '50.0 %' */
export const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** A number in at most `digits` significant digits, without exponent noise for ordinary sizes. */
export function num(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-4) return x.toExponential(digits - 1);
  return String(Number(x.toPrecision(digits)));
}

/** Offer bytes as a file download. */
export function download(bytes: Uint8Array, filename: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = el('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The panel's heading and its one or two plain sentences on what the reader sees. */
export function panelIntro(title: string, text: string): HTMLElement {
  return el('div', { class: 'intro' }, el('h2', {}, title), el('p', { class: 'what' }, text));
}
