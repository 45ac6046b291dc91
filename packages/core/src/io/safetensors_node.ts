// Path-based safetensors save/load for Node: the only part of @wedge/core that touches node:fs, so
// it lives behind the Node-only entry `@wedge/core/node` and the main entry stays browser-safe.
/// <reference types="node" />
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { WedgeError, describeValue } from '../errors.ts';
import {
  type SafetensorsContents, type SafetensorsWriteOptions, decodeSafetensors, encodeValues, plan,
} from './safetensors.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Write a safetensors file atomically: the bytes go to `path.tmp-<pid>-<random>`, are flushed to
 * disk (fsync), and only then renamed over `path`. A crash or error mid-write leaves any old file
 * at `path` intact and removes the temporary file; temporary files that a killed process left
 * next to `path` (their pid no longer runs) are removed by the next save. Errors are WedgeErrors
 * naming the path (a directory, a missing folder, a full disk). Node only (in a browser, use
 * encodeSafetensors).
 * @example
 * import { saveSafetensors } from '@wedge/core/node';
 * saveSafetensors('runs/step100.safetensors', model.stateDict(), { step: '100' });
 */
export function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
  opts: SafetensorsWriteOptions = {},
): void {
  if (typeof path !== 'string' || path === '') throw new WedgeError(`saveSafetensors: path must be a non-empty string, got ${describeValue(path)}`);
  const { header, entries } = plan(tensors, metadata, opts);
  const failed = (what: string, e: unknown): WedgeError =>
    new WedgeError(`saveSafetensors: cannot ${what} '${path}': ${(e as Error).message}`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new WedgeError(`saveSafetensors: '${path}' is a directory; give a file path such as '${path.replace(/\/+$/, '')}/model.safetensors'`);
  }
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) || '/' : '.';
  removeStaleTemps(dir, path.slice(path.lastIndexOf('/') + 1));
  const tmp = `${path}${TMP_INFIX}${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw failed('write', e);
  }
  try {
    const writeAll = (bytes: Uint8Array): void => {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    };
    writeAll(header);
    // One tensor at a time: a large checkpoint never needs a second full copy in memory.
    for (const e of entries) writeAll(encodeValues(e.tensor, e.kind));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e instanceof WedgeError ? e : failed('write', e);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true }); // e.g. `path` became a directory meanwhile: no full-size file left behind
    throw failed('replace', e);
  }
  // Flush the directory entry too, so the rename itself survives a power cut (not every
  // platform lets a directory be opened for this; the file is already safe either way).
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    /* best effort */
  }
}

/** Temporary files are `<file>.tmp-<pid>-<random>`. */
const TMP_INFIX = '.tmp-';

/**
 * Remove `<file>.tmp-<pid>-<random>` files in `dir` whose process no longer runs (a save killed
 * mid-write). A live pid's file is left alone: that process may be writing it now.
 */
function removeStaleTemps(dir: string, file: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // the open that follows reports a missing folder
  }
  const prefix = file + TMP_INFIX;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[a-z0-9]+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isRunning(pid)) continue;
    try {
      rmSync(`${dir}/${name}`, { force: true });
    } catch {
      /* not removable by us: leave it */
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}

/**
 * Read a safetensors file (a path, or the file's bytes). Node only (in a browser, fetch the bytes
 * and use decodeSafetensors).
 * @example
 * import { loadSafetensors } from '@wedge/core/node';
 * model.loadStateDict(loadSafetensors('model.safetensors').tensors);
 */
export function loadSafetensors(pathOrBytes: string | Uint8Array): SafetensorsContents {
  if (typeof pathOrBytes !== 'string') return decodeSafetensors(pathOrBytes);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(pathOrBytes);
  } catch (e) {
    throw new WedgeError(`loadSafetensors: cannot read '${pathOrBytes}': ${(e as Error).message}`);
  }
  return decodeSafetensors(bytes, `'${pathOrBytes}'`);
}
