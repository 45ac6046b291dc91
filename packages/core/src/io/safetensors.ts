// safetensors checkpoints, the format PyTorch's ecosystem shares: an 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}},
// then the raw little-endian tensor bytes (offsets count from the start of that data section).
// The reader trusts nothing: every length, offset and dtype is checked before a byte is used.
import type { DType, TypedArray } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { sizeOf, unravelIndex } from '../shape.ts';
import { Tensor } from '../tensor.ts';

/** The dtypes Wedge reads, their sizes, and what they become. */
const READABLE = {
  F64: { bytes: 8, dtype: 'float64' },
  F32: { bytes: 4, dtype: 'float32' },
  F16: { bytes: 2, dtype: 'float32' }, // widened: exact
  BF16: { bytes: 2, dtype: 'float32' }, // widened: exact
  I64: { bytes: 8, dtype: 'int32' }, // narrowed, with a range check
  I32: { bytes: 4, dtype: 'int32' },
  I16: { bytes: 2, dtype: 'int32' },
  I8: { bytes: 1, dtype: 'int32' },
  U8: { bytes: 1, dtype: 'int32' },
  BOOL: { bytes: 1, dtype: 'bool' },
} as const satisfies Record<string, { bytes: number; dtype: DType }>;

/**
 * The dtypes a safetensors file may hold that Wedge reads (F16/BF16 widen to float32, I64 narrows to int32 with a
 * range check).
 * @example
 * const kind: SafetensorsDType = 'F32';
 */
export type SafetensorsDType = keyof typeof READABLE;

/** Headers above this are refused (as the reference implementation does), so a lying length cannot exhaust memory. */
const MAX_HEADER_BYTES = 100_000_000;

/** A valid header nests 3 levels ({ name: { shape: [ ); anything far deeper is refused before parsing. */
const MAX_HEADER_DEPTH = 64;

/** The deepest `[`/`{` nesting of JSON text (brackets inside strings do not count). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** A JSON value for an error message, at most 60 characters (never a stringify of a huge or deep value). */
function preview(v: unknown): string {
  if (typeof v !== 'object' || v === null) {
    const s = v === undefined ? 'undefined' : JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }
  if (Array.isArray(v)) {
    const parts: string[] = [];
    let length = 2;
    for (const x of v) {
      const p = typeof x === 'object' && x !== null ? (Array.isArray(x) ? '[…]' : '{…}') : preview(x);
      length += p.length + 1;
      if (length > 60) {
        parts.push('…');
        break;
      }
      parts.push(p);
    }
    return `[${parts.join(',')}]`;
  }
  return '{…}';
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * What decodeSafetensors()/loadSafetensors() return: the tensors by name and the string metadata.
 * @example
 * const { tensors, metadata } = decodeSafetensors(bytes);
 */
export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Options of the writers: `int64: true` writes int32 tensors as I64 (what PyTorch's index tensors are).
 * @example
 * encodeSafetensors({ ids }, undefined, { int64: true })
 */
export interface SafetensorsWriteOptions {
  /** Write int32 tensors as I64 (PyTorch's default integer type, e.g. token ids for F.cross_entropy). */
  int64?: boolean;
}

// ---- reading ------------------------------------------------------------------------------------

/**
 * Parse a safetensors file held in memory. Integers come back as int32 (I64 values must fit),
 * F16/BF16 as float32. Throws a WedgeError naming the problem for any malformed input.
 * @example const { tensors } = decodeSafetensors(new Uint8Array(await res.arrayBuffer()));
 */
export function decodeSafetensors(input: Uint8Array, source = 'safetensors'): SafetensorsContents {
  // NOTE: a plain Uint8Array over the same memory: Node's Buffer.slice shares memory instead of copying.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const fail = (msg: string): never => {
    throw new WedgeError(`loadSafetensors: ${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLength = hi * 2 ** 32 + lo;
  if (headerLength > bytes.length - 8) {
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  }
  if (headerLength > MAX_HEADER_BYTES) fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);

  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail(`the header is not valid UTF-8`);
  }
  const depth = jsonDepth(text);
  if (depth > MAX_HEADER_DEPTH) fail(`the header nests ${depth} levels deep (a valid one nests 3; the limit is ${MAX_HEADER_DEPTH})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(`the header must be a JSON object`);

  const metadata: [string, string][] = [];
  const entries: { name: string; kind: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`__metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ entry '${k}' must be a string, got ${preview(v)}`);
        metadata.push([k, v as string]);
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof info !== 'object' || info === null) fail(`${where}: entry must be an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`${where}: dtype must be a string, got ${preview(dtype)}`);
    if (!Object.hasOwn(READABLE, dtype as string)) {
      fail(`${where}: unknown or unsupported dtype '${(dtype as string).slice(0, 40)}' (Wedge reads ${Object.keys(READABLE).join(', ')})`);
    }
    const isCount = (d: unknown): d is number => Number.isSafeInteger(d) && (d as number) >= 0;
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape must be an array of non-negative integers, got ${preview(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      fail(`${where}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${preview(offsets)}`);
    }
    const kind = dtype as SafetensorsDType;
    const [begin, end] = offsets as number[];
    const nbytes = sizeOf(shape as number[]) * READABLE[kind].bytes;
    if (!Number.isSafeInteger(nbytes) || nbytes !== end - begin) {
      fail(`${where}: ${kind} ${fmtShape(shape as number[])} needs ${nbytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ name, kind, shape: shape as number[], begin, end });
  }

  // The byte ranges must tile the data section exactly: no gaps, no overlaps, nothing past the end.
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of byOffset) {
    if (e.begin < cursor) fail(`tensor '${e.name}' bytes [${e.begin}, ${e.end}) overlap the previous tensor (which ends at ${cursor})`);
    if (e.begin > cursor) fail(`a gap of unused bytes [${cursor}, ${e.begin}) before tensor '${e.name}'`);
    if (e.end > dataLength) fail(`tensor '${e.name}' bytes [${e.begin}, ${e.end}) run past the data section (${dataLength} bytes)`);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(`${dataLength - cursor} trailing bytes after the last tensor (data section ${dataLength} bytes, tensors end at ${cursor})`);

  const tensors = entries.map((e): [string, Tensor] => {
    const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    return [e.name, Tensor.fromArray(decodeValues(e.kind, raw, (m) => fail(`tensor '${e.name}' (${e.kind} ${fmtShape(e.shape)}): ${m}`), e.shape), e.shape, READABLE[e.kind].dtype)];
  });
  // Object.fromEntries defines own properties, so a tensor named '__proto__' stays a tensor.
  return { tensors: Object.fromEntries(tensors), metadata: Object.fromEntries(metadata) };
}

/** Raw little-endian bytes of one tensor → Wedge's storage array. */
function decodeValues(kind: SafetensorsDType, raw: Uint8Array, fail: (msg: string) => never, shape: number[]): TypedArray {
  const n = raw.length / READABLE[kind].bytes;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const copy = (): ArrayBuffer => new Uint8Array(raw).buffer; // an owned, aligned copy
  switch (kind) {
    case 'F32':
      if (LITTLE_ENDIAN_HOST) return new Float32Array(copy());
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    case 'F64':
      if (LITTLE_ENDIAN_HOST) return new Float64Array(copy());
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
    case 'I32':
      if (LITTLE_ENDIAN_HOST) return new Int32Array(copy());
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    case 'F16':
      return Float32Array.from({ length: n }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift its bits up.
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = view.getInt32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        // fits in int32 exactly when the high word is the sign extension of the low word
        if (hi !== lo >> 31) {
          const value = view.getBigInt64(8 * i, true);
          fail(`value ${value} at position ${fmtShape(unravelIndex(i, shape))} does not fit in int32 (Wedge's integer type)`);
        }
        out[i] = lo;
      }
      return out;
    }
    case 'I16':
      return Int32Array.from({ length: n }, (_, i) => view.getInt16(2 * i, true));
    case 'I8':
      return Int32Array.from({ length: n }, (_, i) => view.getInt8(i));
    case 'U8':
      return Int32Array.from(raw);
    case 'BOOL': {
      for (let i = 0; i < n; i++) {
        if (raw[i] > 1) fail(`byte ${raw[i]} at position ${fmtShape(unravelIndex(i, shape))} is not a boolean (0 or 1)`);
      }
      return new Uint8Array(raw);
    }
  }
}

/** IEEE half → float: sign, 5-bit exponent (bias 15), 10-bit mantissa; subnormals and Inf/NaN kept. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// ---- writing ------------------------------------------------------------------------------------

export interface Planned {
  header: Uint8Array; // the 8-byte length and the padded JSON
  entries: { name: string; tensor: Tensor; kind: SafetensorsDType }[]; // in data order
}

/** Check names, dtypes and metadata and lay the file out, before anything is written. */
export function plan(tensors: Record<string, Tensor>, metadata: Record<string, string> | undefined, opts: SafetensorsWriteOptions): Planned {
  const fail = (msg: string): never => {
    throw new WedgeError(`saveSafetensors: ${msg}`);
  };
  const named = Object.entries(tensors).map(([name, t]) => {
    if (name === '__metadata__') fail(`'__metadata__' is reserved and cannot name a tensor`);
    if (!(t instanceof Tensor)) fail(`'${name}' is not a Tensor`);
    const kind: SafetensorsDType =
      t.dtype === 'float32' ? 'F32' : t.dtype === 'float64' ? 'F64' : t.dtype === 'bool' ? 'BOOL' : opts.int64 ? 'I64' : 'I32';
    return { name, tensor: t, kind };
  });
  // NOTE: a null prototype, so a tensor named '__proto__' becomes a key and not the prototype.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  // Data goes widest item first (stable), so every tensor starts aligned to its item size.
  const entries = [...named].sort((a, b) => READABLE[b.kind].bytes - READABLE[a.kind].bytes);
  const ranges = new Map<string, [number, number]>();
  let offset = 0;
  for (const e of entries) {
    const nbytes = e.tensor.size * READABLE[e.kind].bytes;
    ranges.set(e.name, [offset, offset + nbytes]);
    offset += nbytes;
  }
  for (const e of named) header[e.name] = { dtype: e.kind, shape: [...e.tensor.shape], data_offsets: ranges.get(e.name) };
  let json = JSON.stringify(header);
  const encoded = new TextEncoder().encode(json);
  // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
  const padded = Math.ceil(encoded.length / 8) * 8;
  json += ' '.repeat(padded - encoded.length);
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  return { header: out, entries };
}

/** The little-endian bytes of one tensor in the file's dtype. */
export function encodeValues(t: Tensor, kind: SafetensorsDType): Uint8Array {
  const values = t.data(); // contiguous, row-major, on the CPU
  if (kind === 'I64') {
    const out = new Uint8Array(values.length * 8);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setBigInt64(8 * i, BigInt(values[i]), true);
    return out;
  }
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (kind === 'F32') view.setFloat32(4 * i, values[i], true);
    else if (kind === 'F64') view.setFloat64(8 * i, values[i], true);
    else if (kind === 'I32') view.setInt32(4 * i, values[i], true);
    else out[i] = values[i];
  }
  return out;
}

/**
 * The bytes of a safetensors file. float32 → F32, float64 → F64, bool → BOOL, int32 → I32
 * (or I64 with `{ int64: true }`).
 * @example const bytes = encodeSafetensors(model.stateDict(), { step: '100' });
 */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
  opts: SafetensorsWriteOptions = {},
): Uint8Array {
  const { header, entries } = plan(tensors, metadata, opts);
  const parts = entries.map((e) => encodeValues(e.tensor, e.kind));
  const out = new Uint8Array(header.length + parts.reduce((n, p) => n + p.length, 0));
  out.set(header, 0);
  let at = header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
