// Path-based safetensors save/load for Node: the only part of @wedge/core that touches node:fs, so
// it lives behind the Node-only entry `@wedge/core/node` and the main entry stays browser-safe.
/// <reference types="node" />
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { WedgeError } from '../errors.ts';
import {
  type SafetensorsContents, type SafetensorsWriteOptions, decodeSafetensors, encodeValues, plan,
} from './safetensors.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Write a safetensors file atomically: the bytes go to `path.tmp-<pid>-<random>`, are flushed to
 * disk (fsync), and only then renamed over `path`. A crash or error mid-write leaves any old file
 * at `path` intact and removes the temporary file. Node only (in a browser, use encodeSafetensors).
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
  const { header, entries } = plan(tensors, metadata, opts);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = openSync(tmp, 'wx', 0o644);
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
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // Flush the directory entry too, so the rename itself survives a power cut (not every
  // platform lets a directory be opened for this; the file is already safe either way).
  try {
    const dir = openSync(path.includes('/') ? path.slice(0, path.lastIndexOf('/')) || '/' : '.', 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    /* best effort */
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
