#!/usr/bin/env node
// prepack: copies the repository's LICENSE and CHANGELOG.md into packages/<name>/ so every tarball
// carries them (the copies are git-ignored; the repository root holds the one original of each).
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
for (const name of process.argv.slice(2)) {
  for (const file of ['LICENSE', 'CHANGELOG.md']) copyFileSync(join(root, file), join(root, 'packages', name, file));
}
