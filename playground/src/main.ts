// The playground's entry: four panels behind tabs, one training worker shared by the first two.
import './style.css';
import { mountAutodiff } from './autodiff/panel.ts';
import { mountInside } from './inside/panel.ts';
import { mountResilience } from './resilience/panel.ts';
import { TrainerClient } from './train/client.ts';
import { mountTrain } from './train/panel.ts';
import { el } from './ui.ts';
import { setBackend } from '@wedge/core';

// The page itself (autodiff, resilience) computes on the CPU reference, the definition every faster
// backend is tested against; training picks its backend in the worker.
setBackend('cpu');

const client = new TrainerClient();
const panels: { id: string; title: string; mount: (root: HTMLElement) => void | { shown(): void } }[] = [
  { id: 'train', title: '1 · Train', mount: (root) => mountTrain(root, client) },
  { id: 'inside', title: '2 · Look inside', mount: (root) => mountInside(root, client) },
  { id: 'resilience', title: '3 · Resilience', mount: (root) => mountResilience(root, client) },
  { id: 'autodiff', title: '4 · Autodiff', mount: (root) => mountAutodiff(root) },
];

const nav = document.querySelector<HTMLElement>('nav.tabs')!;
const main = document.querySelector<HTMLElement>('#panels')!;
const shown = new Map<string, () => void>();
const sections = panels.map((p) => {
  const section = el('section', { id: `panel-${p.id}`, class: 'panel', role: 'tabpanel', 'aria-labelledby': `tab-${p.id}` });
  main.append(section);
  const handle = p.mount(section);
  if (handle) shown.set(p.id, () => handle.shown());
  const tab = el('button', { id: `tab-${p.id}`, role: 'tab', type: 'button', 'data-testid': `tab-${p.id}` }, p.title);
  tab.onclick = () => select(p.id);
  nav.append(tab);
  return { id: p.id, section, tab };
});

function select(id: string): void {
  for (const s of sections) {
    const on = s.id === id;
    s.section.hidden = !on;
    s.tab.setAttribute('aria-selected', String(on));
  }
  if (location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
  shown.get(id)?.();
}
select(sections.some((s) => `#${s.id}` === location.hash) ? location.hash.slice(1) : 'train');

const foot = document.querySelector<HTMLElement>('#foot')!;
foot.textContent =
  `Wedge playground · ${crossOriginIsolated ? 'cross-origin isolated (threads available)' : 'not cross-origin isolated: serve with COOP/COEP for threads'} · ` +
  `${navigator.hardwareConcurrency} logical cores`;
