// Where a run's files go, checked before any training: the output folder must be new (or empty),
// its parent a writable folder. The run is assembled in `<out>.partial` and renamed to `<out>` at
// the very end, so a folder at `<out>` is always a complete run and runs are never mixed.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from './args.ts';

/** The folder an unfinished run lives in. */
export const partialOf = (out: string): string => `${out}.partial`;

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? 'unknown error';

/** One-line description of a file-system error, e.g. "no space left on device (ENOSPC)". */
export function fsReason(e: unknown): string {
  const code = errCode(e);
  const words: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOTDIR: 'a path component is a file, not a folder',
    ENOENT: 'no such file or folder',
    EEXIST: 'already exists',
    EIO: 'input/output error',
  };
  return `${words[code] ?? String((e as Error).message).split('\n')[0]} (${code})`;
}

/**
 * mkdir -p without `recursive: true` (which never returns under /proc in Node 20): find the
 * nearest existing ancestor, check it is a writable folder, then create each missing level.
 */
function makeDirs(dir: string, flag: string, shown: string): void {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    let st;
    try {
      st = statSync(cur);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw new UsageError(`--${flag} ${shown}: cannot use ${cur}: ${fsReason(e)}`);
      missing.unshift(cur);
      const up = dirname(cur);
      if (up === cur) throw new UsageError(`--${flag} ${shown}: no existing folder above it`);
      cur = up;
      continue;
    }
    if (!st.isDirectory()) throw new UsageError(`--${flag} ${shown}: ${cur} is a file, not a folder`);
    try {
      accessSync(cur, constants.W_OK);
    } catch (e) {
      throw new UsageError(`--${flag} ${shown}: cannot write in ${cur}: ${fsReason(e)}`);
    }
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      throw new UsageError(`--${flag} ${shown}: cannot create ${d}: ${fsReason(e)}`);
    }
  }
}

/**
 * Check `out` before training and create its `.partial` folder (returned). Refuses a file, a
 * folder that already holds files, a path under a file, an unwritable place, and an unfinished
 * run already at `<out>.partial` (continue that one with --resume).
 * @example const staging = prepareOutput('/runs/a'); // '/runs/a.partial', created
 */
export function prepareOutput(out: string, flag = 'out'): string {
  if (existsSync(out)) {
    const st = statSync(out);
    if (!st.isDirectory()) throw new UsageError(`--${flag} ${out} is a file; give a folder`);
    const entries = readdirSync(out);
    if (entries.length > 0) {
      throw new UsageError(`--${flag} ${out} already holds files (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); give a new folder: runs are never mixed`);
    }
  }
  const staging = partialOf(out);
  if (existsSync(staging)) {
    throw new UsageError(`an unfinished run is in ${staging}: continue it with --resume ${out}, or delete that folder`);
  }
  makeDirs(dirname(out), flag, out);
  try {
    mkdirSync(staging);
    // a probe file: a folder can exist and still refuse files (quota, read-only bind mounts)
    writeFileSync(join(staging, '.write-test'), 'ok');
    rmSync(join(staging, '.write-test'));
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw new UsageError(`--${flag} ${out}: cannot write ${basename(staging)} in ${dirname(out)}: ${fsReason(e)}`);
  }
  return staging;
}

/**
 * The unfinished run `--resume DIR` names: DIR.partial (or DIR itself when it is the .partial folder).
 * @example const staging = findResumable('/runs/a'); // '/runs/a.partial'
 */
export function findResumable(dir: string): { out: string; staging: string } {
  const candidates = dir.endsWith('.partial') ? [{ out: dir.slice(0, -'.partial'.length), staging: dir }] : [{ out: dir, staging: partialOf(dir) }];
  for (const c of candidates) {
    if (existsSync(join(c.staging, 'run.json'))) return c;
  }
  if (existsSync(join(dir, 'results.json'))) throw new UsageError(`--resume ${dir}: that run is already complete`);
  throw new UsageError(`--resume ${dir}: no unfinished run there (no ${join(candidates[0].staging, 'run.json')})`);
}

/**
 * Make the assembled run visible: rename `<out>.partial` to `<out>` (atomic on one file system;
 * an empty folder at `<out>` is replaced).
 */
export function publish(staging: string, out: string): void {
  if (existsSync(out) && statSync(out).isDirectory() && readdirSync(out).length === 0) rmSync(out, { recursive: true });
  renameSync(staging, out);
}
