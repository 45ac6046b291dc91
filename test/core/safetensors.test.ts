// safetensors: the byte layout, every dtype PyTorch writes, exact error messages, fast-check
// properties (valid files round trip; corrupted files are rejected or read exactly), atomic writes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CpuStorage, Tensor, WedgeError, decodeSafetensors, encodeSafetensors, tensor, zeros,
  type DType, type Storage,
} from '@wedge/core';
import { loadSafetensors, saveSafetensors } from '@wedge/core/node';

const fixturePath = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** A file from a header object and raw data bytes, exactly as given (no checks). */
function rawFile(header: unknown, data: ArrayLike<number> = [], headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

const f32Bytes = (values: number[]) => Array.from(new Uint8Array(new Float32Array(values).buffer));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WedgeError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('the byte layout', () => {
  it('reads a hand-made file: u64 header length, JSON header, little-endian data', () => {
    const bytes = rawFile(
      { __metadata__: { format: 'pt' }, b: { dtype: 'I32', shape: [2], data_offsets: [8, 16] }, a: { dtype: 'F32', shape: [2, 1], data_offsets: [0, 8] } },
      [...f32Bytes([1.5, -2]), 7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(tensors)).toEqual(['b', 'a']); // header order
    expect(tensors.a.dtype).toBe('float32');
    expect(tensors.a.toArray()).toEqual([[1.5], [-2]]);
    expect(tensors.b.dtype).toBe('int32');
    expect(tensors.b.toArray()).toEqual([7, -1]);
  });
  it('writes the header padded with spaces to 8 bytes and each tensor aligned to its item size', () => {
    const bytes = encodeSafetensors({ flag: tensor([true]), w: zeros([3], { dtype: 'float64' }), ids: tensor([1, 2], { dtype: 'int32' }) }, { step: '3' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['__metadata__', 'flag', 'w', 'ids']);
    expect(header.w).toEqual({ dtype: 'F64', shape: [3], data_offsets: [0, 24] });
    expect(header.ids).toEqual({ dtype: 'I32', shape: [2], data_offsets: [24, 32] });
    expect(header.flag).toEqual({ dtype: 'BOOL', shape: [1], data_offsets: [32, 33] });
    expect(bytes.length).toBe(8 + n + 33);
  });
  it('writes int32 as I64 on request, and reads it back as int32', () => {
    const ids = tensor([[0, -1], [2147483647, -2147483648]], { dtype: 'int32' });
    const bytes = encodeSafetensors({ ids }, undefined, { int64: true });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))).ids.dtype).toBe('I64');
    expect(new DataView(bytes.buffer).getBigInt64(8 + n + 8, true)).toBe(-1n);
    expect(decodeSafetensors(bytes).tensors.ids.toArray()).toEqual(ids.toArray());
  });
  it('writes strided views in row-major order, scalars and empty tensors', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1);
    const back = decodeSafetensors(encodeSafetensors({ x, s: tensor(2.5), e: zeros([0, 3]) })).tensors;
    expect(back.x.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(back.s.shape).toEqual([]);
    expect(back.s.item()).toBe(2.5);
    expect(back.e.shape).toEqual([0, 3]);
  });
  it('keeps a tensor named __proto__ as a tensor', () => {
    const back = decodeSafetensors(encodeSafetensors({ ['__proto__']: tensor([1]) } as Record<string, Tensor>)).tensors;
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });
});

describe('every dtype PyTorch writes (fixture from scripts/fixtures/nn_dtypes.py)', () => {
  const { tensors: t, metadata } = loadSafetensors(fixturePath('nn_dtypes.safetensors'));
  const expected: [string, DType][] = [
    ['F64', 'float64'], ['F32', 'float32'], ['F16', 'float32'], ['BF16', 'float32'], ['I64', 'int32'], ['I32', 'int32'],
    ['I16', 'int32'], ['I8', 'int32'], ['U8', 'int32'], ['BOOL', 'bool'], ['scalar', 'float32'], ['empty', 'float32'],
  ];
  for (const [name, dtype] of expected) {
    it(`${name} reads as ${dtype} with exactly PyTorch's values`, () => {
      expect(t[name].dtype).toBe(dtype);
      expect(t[name].shape).toEqual(t[`${name}.expected`].shape);
      const got = Array.from(t[name].data() as ArrayLike<number>);
      const want = Array.from(t[`${name}.expected`].data() as ArrayLike<number>);
      got.forEach((v, i) => expect(Object.is(v, want[i]) || (Number.isNaN(v) && Number.isNaN(want[i])), `${name}[${i}]: ${v} vs ${want[i]}`).toBe(true));
    });
  }
  it('reads metadata', () => {
    expect(metadata.format).toBe('pt');
  });
  it('refuses an I64 value outside int32, naming it and its position', () => {
    expect(errorOf(() => loadSafetensors(fixturePath('nn_dtypes_i64_overflow.safetensors')))).toMatch(
      /^loadSafetensors: '.*nn_dtypes_i64_overflow\.safetensors': tensor 'ids' \(I64 \[2\]\): value 2147483648 at position \[1\] does not fit in int32 \(Wedge's integer type\)$/,
    );
  });
});

describe('malformed files are clear errors', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data = f32Bytes([1, 2]);
  const cases: [string, () => Uint8Array, string][] = [
    ['shorter than 8 bytes', () => new Uint8Array(5), '5 bytes is too short for the 8-byte header length'],
    ['a header length past the end', () => rawFile(good, data).slice(0, 20), 'header length 54 runs past the end of the file (20 bytes)'],
    ['a huge header length', () => {
      const b = rawFile(good, data);
      new DataView(b.buffer).setUint32(4, 1, true);
      return b;
    }, 'header length 4294967350 runs past the end of the file (70 bytes)'],
    ['bad JSON', () => rawFile(null, data, '{"a": {'), `the header is not valid JSON`],
    ['a JSON array header', () => rawFile([1, 2]), 'the header must be a JSON object'],
    ['invalid UTF-8', () => {
      const b = rawFile(good, data);
      b[9] = 0xff;
      return b;
    }, 'the header is not valid UTF-8'],
    ['an unknown dtype', () => rawFile({ a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, [0, 0]), "tensor 'a': unknown or unsupported dtype 'F8_E4M3' (Wedge reads F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)"],
    ['a bad shape', () => rawFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data), "tensor 'a': shape must be an array of non-negative integers, got [-2]"],
    ['offsets that do not match shape × itemsize', () => rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), "tensor 'a': F32 [3] needs 12 bytes but data_offsets [0, 8] hold 8"],
    ['reversed offsets', () => rawFile({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data), "tensor 'a': data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got [8,0]"],
    ['overlapping ranges', () => rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), "tensor 'b' bytes [4, 8) overlap the previous tensor (which ends at 8)"],
    ['a gap', () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), "a gap of unused bytes [0, 4) before tensor 'a'"],
    ['a range past the data', () => rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), "tensor 'a' bytes [0, 16) run past the data section (8 bytes)"],
    ['trailing bytes', () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data), '4 trailing bytes after the last tensor (data section 8 bytes, tensors end at 4)'],
    ['a non-string metadata value', () => rawFile({ __metadata__: { step: 3 } }), "__metadata__ entry 'step' must be a string, got 3"],
    ['a BOOL byte that is not 0 or 1', () => rawFile({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, [1, 2]), "tensor 'm' (BOOL [2]): byte 2 at position [1] is not a boolean (0 or 1)"],
  ];
  for (const [what, make, message] of cases) {
    it(`${what}`, () => {
      const m = errorOf(() => decodeSafetensors(make()));
      expect(m.startsWith(`loadSafetensors: safetensors: ${message}`), m).toBe(true);
    });
  }
  it('names the file it could not read', () => {
    expect(errorOf(() => loadSafetensors('/nonexistent/x.safetensors'))).toMatch(/^loadSafetensors: cannot read '\/nonexistent\/x\.safetensors': ENOENT/);
  });
  it('refuses to write a tensor named __metadata__ or a non-string metadata value', () => {
    expect(errorOf(() => encodeSafetensors({ __metadata__: zeros([1]) }))).toBe("saveSafetensors: '__metadata__' is reserved and cannot name a tensor");
    expect(errorOf(() => encodeSafetensors({}, { n: 3 as unknown as string }))).toBe("saveSafetensors: metadata 'n' must be a string, got number");
  });
});

// ---- properties ---------------------------------------------------------------------------------

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
const sized = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A random tensor of a writable dtype, with NaN, ±0 and ±Infinity among the floats. */
const tensorArb: fc.Arbitrary<Tensor> = fc.oneof(
  ...(['float32', 'float64', 'int32', 'bool'] as const).map((dtype) =>
    shapeArb.chain((shape) => {
      const n = sized(shape);
      const values: fc.Arbitrary<number[]> =
        dtype === 'float32' ? fc.array(fc.float(), { minLength: n, maxLength: n })
        : dtype === 'float64' ? fc.array(fc.double(), { minLength: n, maxLength: n })
        : dtype === 'int32' ? fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n })
        : fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n });
      return values.map((v) => tensor(v, { dtype, shape }));
    }),
  ),
);
const nameArb = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'attn.W_q.weight', 'toString', 'é€😀'));
const dictArb = fc
  .uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([n]) => n, maxLength: 5 })
  .map((entries) => Object.fromEntries(entries.filter(([n]) => n !== '__metadata__')) as Record<string, Tensor>);
const metaArb = fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), { nil: undefined });

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** The values the bytes hold, decoded independently of Wedge (DataView, little-endian). */
function referenceValues(kind: string, raw: Uint8Array): number[] | null {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = (k: number) => Array.from({ length: raw.length / k }, (_, i) => i * k);
  switch (kind) {
    case 'F32': return n(4).map((o) => v.getFloat32(o, true));
    case 'F64': return n(8).map((o) => v.getFloat64(o, true));
    case 'I32': return n(4).map((o) => v.getInt32(o, true));
    case 'I64': return n(8).map((o) => Number(v.getBigInt64(o, true)));
    case 'I16': return n(2).map((o) => v.getInt16(o, true));
    case 'I8': return n(1).map((o) => v.getInt8(o));
    case 'U8': case 'BOOL': return n(1).map((o) => v.getUint8(o));
    case 'BF16': return n(2).map((o) => new Float32Array(new Uint32Array([v.getUint16(o, true) << 16]).buffer)[0]);
    default: return null; // F16: covered by the PyTorch fixture
  }
}

/** If `bytes` decodes, every tensor holds exactly what its header entry says the bytes hold. */
function checkReadExactly(bytes: Uint8Array): 'rejected' | 'read' {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    if (!(e instanceof WedgeError) || !e.message.startsWith('loadSafetensors: ')) throw e; // never any other failure
    return 'rejected';
  }
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  expect(Object.keys(decoded.tensors).sort()).toEqual(names.sort());
  for (const name of names) {
    const { dtype, shape, data_offsets: [b, e] } = header[name];
    const t = decoded.tensors[name];
    expect(t.shape).toEqual(shape);
    const want = referenceValues(dtype, bytes.subarray(8 + n + b, 8 + n + e));
    if (want !== null) expect(same(t.data(), want), `tensor '${name}' (${dtype})`).toBe(true);
  }
  return 'read';
}

describe('properties (fast-check)', () => {
  it('any dict of tensors round-trips exactly: names, dtypes, shapes, values (NaN, ±0, ±∞), metadata', () => {
    fc.assert(
      fc.property(dictArb, metaArb, fc.boolean(), (dict, meta, int64) => {
        const { tensors, metadata } = decodeSafetensors(encodeSafetensors(dict, meta, { int64 }));
        expect(Object.keys(tensors)).toEqual(Object.keys(dict));
        expect(metadata).toEqual(meta ?? {});
        for (const [k, t] of Object.entries(dict)) {
          expect(tensors[k].dtype).toBe(t.dtype);
          expect(tensors[k].shape).toEqual(t.shape);
          expect(same(tensors[k].data(), t.data())).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
  it('any truncation of a valid file is rejected', () => {
    fc.assert(
      fc.property(dictArb, fc.nat(), (dict, cut) => {
        const bytes = encodeSafetensors(dict);
        const short = bytes.subarray(0, cut % bytes.length);
        expect(checkReadExactly(short)).toBe('rejected');
      }),
      { numRuns: 200 },
    );
  });
  it('a flipped byte anywhere is rejected or read exactly', () => {
    fc.assert(
      fc.property(dictArb, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (dict, at, xor, inHeader) => {
        const bytes = encodeSafetensors(dict);
        const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
        const dataLength = bytes.length - headerEnd;
        const i = inHeader || dataLength === 0 ? at % headerEnd : headerEnd + (at % dataLength);
        const bad = bytes.slice();
        bad[i] ^= xor;
        checkReadExactly(bad);
      }),
      { numRuns: 300 },
    );
  });
  it('a tweaked data offset or shape is rejected or read exactly', () => {
    fc.assert(
      fc.property(dictArb.filter((d) => Object.keys(d).length > 0), fc.nat(), fc.integer({ min: -9, max: 9 }), fc.constantFrom(0, 1, 2), (dict, pick, delta, which) => {
        const bytes = encodeSafetensors(dict);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
        const names = Object.keys(header).filter((k) => k !== '__metadata__');
        const entry = header[names[pick % names.length]];
        const before = entry.data_offsets[which];
        if (which === 2) entry.shape = [...entry.shape, Math.max(0, 1 + delta)];
        else entry.data_offsets[which] = Math.max(0, before + delta);
        const result = checkReadExactly(rawFile(header, bytes.subarray(8 + n)));
        // moving one end of a range changes its size, which no longer matches the shape
        if (which !== 2 && entry.data_offsets[which] !== before) expect(result).toBe('rejected');
      }),
      { numRuns: 300 },
    );
  });
});

// ---- atomic writes ------------------------------------------------------------------------------

/** A storage that fails when read: a lost GPU context, a disk that fills up mid-write. */
class FailingStorage implements Storage {
  readonly device = 'lost-gpu';
  readonly dtype = 'float32' as const;
  readonly size = 4;
  readonly disposed = false;
  read(): Float32Array {
    throw new Error('storage lost');
  }
  dispose(): void {}
}

describe('saveSafetensors writes atomically', () => {
  it('writes a file loadSafetensors reads back, and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wedge-st-'));
    try {
      const path = join(dir, 'model.safetensors');
      saveSafetensors(path, { w: tensor([[1, 2]]) }, { step: '1' });
      expect(loadSafetensors(path).tensors.w.toArray()).toEqual([[1, 2]]);
      expect(loadSafetensors(path).metadata).toEqual({ step: '1' });
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
      expect(same(readFileSync(path), encodeSafetensors({ w: tensor([[1, 2]]) }, { step: '1' }))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a write that fails midway leaves the old file intact and removes its temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wedge-st-'));
    try {
      const path = join(dir, 'model.safetensors');
      saveSafetensors(path, { w: tensor([1, 2, 3]) });
      const before = readFileSync(path);
      // The first tensor is written, then reading the second fails: the temporary file held a partial checkpoint.
      const broken = new Tensor(new FailingStorage(), [4]);
      expect(() => saveSafetensors(path, { a: zeros([1000]), b: broken })).toThrow('storage lost');
      expect(same(readFileSync(path), before)).toBe(true);
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
      expect(loadSafetensors(path).tensors.w.toArray()).toEqual([1, 2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a directory that does not exist is an error and creates nothing', () => {
    expect(() => saveSafetensors('/nonexistent-dir/m.safetensors', { w: zeros([1]) })).toThrow(/ENOENT/);
    expect(existsSync('/nonexistent-dir')).toBe(false);
  });
  it('reads a CpuStorage-backed tensor written by another process unchanged', () => {
    // (the PyTorch-written fixtures above cover interop; this pins the exported CpuStorage path)
    const t = new Tensor(new CpuStorage(new Float32Array([1, 2, 3, 4]), 'float32'), [2, 2], [1, 2]);
    expect(decodeSafetensors(encodeSafetensors({ t })).tensors.t.toArray()).toEqual([[1, 3], [2, 4]]);
  });
});
