// docs/findings.md reports a study: its tables must be the committed results files' numbers (the
// blocks are made by examples/copy_task/findings_tables.ts), at the stated config, with the plots.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderFindings } from '../../examples/copy_task/findings_tables.ts';

const DOCS = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'docs');
const doc = readFileSync(join(DOCS, 'findings.md'), 'utf8');

describe('docs/findings.md', () => {
  it('has tables equal to those made from its results files', () => {
    const blocks = [...doc.matchAll(/<!-- table:(\w+) (\S+) -->/g)].map((m) => m[1]);
    expect(blocks).toEqual(expect.arrayContaining(['summary', 'perSeed', 'probe', 'lengths']));
    expect(renderFindings(doc, DOCS)).toBe(doc);
  });

  it('reports a run of at least 5 seeds, with the probe and the longer lengths, and shows its plots', () => {
    const files = new Set([...doc.matchAll(/<!-- table:\w+ (\S+) -->/g)].map((m) => m[1]));
    for (const file of files) {
      const r = JSON.parse(readFileSync(join(DOCS, file), 'utf8'));
      expect(r.seeds.length).toBeGreaterThanOrEqual(5);
      for (const attn of r.config.attnTypes) expect(Object.keys(r.summary[attn].stepsTo99)).toEqual(expect.arrayContaining(['mean', 'ci95', 'n']));
      // the config the doc states is the file's
      expect(doc).toContain(`${r.config.steps} steps`);
    }
    for (const img of [...doc.matchAll(/!\[[^\]]*\]\(([^)]+\.png)\)/g)].map((m) => m[1])) {
      expect(existsSync(join(DOCS, img)), img).toBe(true);
      expect(existsSync(join(DOCS, img.replace(/\.png$/, '.svg'))), img).toBe(true);
    }
  });
});
