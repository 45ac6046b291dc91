// Properties over the classes of edge cases that PyTorch fixes one way (the goldens in
// torch_edges.test.ts pin single examples): mixed-dtype ops compute on the promoted dtype, int32
// products wrap exactly, pow(1, y) = 1, gradients pass through NaN inputs, narrow and einsum('...')
// agree with slice and matmul, printing and tidy() stay bounded, and saves leave no temp files.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DType, type Tensor, tensor, zeros, ones, full, rand, randn, arange, add, sub, mul, maximum, minimum, eq, lt, ge,
  pow, relu, einsum, matmul, tidy, decodeSafetensors, WedgeError, ELEMENTWISE_OPS, UNARY_OPS, BINARY_OPS, COMPARISON_OPS,
  Tensor as TensorClass,
} from '@wedge/core';
import { saveSafetensors } from '@wedge/core/node';
import { safetensorsWithHeader } from '../helpers/fixtures.ts';

const RUNS = { numRuns: 60, seed: 20261201 } as const;

/** A float32 value as stored, the float64 one unchanged: the rounding a cast to `dtype` does. */
const round = (dtype: DType, v: number): number => (dtype === 'float32' ? Math.fround(v) : dtype === 'int32' ? v | 0 : v);

describe('mixed-dtype ops compute on the promoted dtype, as PyTorch', () => {
  // [dtype of a (dimensioned), dtype of b, b 0-d?, the promoted dtype PyTorch computes in]
  const PAIRS: [DType, DType, boolean, DType][] = [
    ['int32', 'float32', false, 'float32'],
    ['int32', 'float64', false, 'float64'],
    ['float32', 'float64', false, 'float64'],
    ['float32', 'float64', true, 'float32'], // a 0-d float64 does not widen a float32 tensor
    ['int32', 'float32', true, 'float32'],
    ['int32', 'float64', true, 'float64'], // but a 0-d float widens an integer tensor to its own dtype
  ];
  const REFERENCE: Record<string, (x: number, y: number) => number> = {
    add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y,
    maximum: (x, y) => Math.max(x, y), minimum: (x, y) => Math.min(x, y),
    eq: (x, y) => +(x === y), lt: (x, y) => +(x < y), ge: (x, y) => +(x >= y),
  };
  const FNS = { add, sub, mul, maximum, minimum, eq, lt, ge };
  // values near 2²⁴ (where int32 → float32 rounds) and near 1 + 2⁻²⁴ (where float64 → float32 does)
  const value = fc.oneof(
    fc.integer({ min: 16777210, max: 16777230 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double({ min: 1, max: 1 + 2 ** -20, noNaN: true }),
  );
  for (const [da, db, zeroDim, common] of PAIRS) {
    it(`${da} [n] with ${db} ${zeroDim ? '0-d' : '[n]'} computes in ${common}`, () => {
      fc.assert(
        fc.property(fc.array(value, { minLength: 1, maxLength: 6 }), value, fc.constantFrom(...Object.keys(FNS)), (xs, y, name) => {
          const a = tensor(xs.map((v) => round(da, v)), { dtype: da });
          const b = zeroDim ? tensor(round(db, y), { dtype: db }) : tensor(xs.map(() => round(db, y)), { dtype: db });
          const out = FNS[name as keyof typeof FNS](a, b);
          const isComparison = ['eq', 'lt', 'ge'].includes(name);
          expect(out.dtype).toBe(isComparison ? 'bool' : common);
          const bv = round(common, round(db, y));
          const want = xs.map((v) => {
            const r = REFERENCE[name](round(common, round(da, v)), bv);
            return isComparison ? r : round(common, r);
          });
          expect(Array.from(out.data() as ArrayLike<number>)).toEqual(want);
        }),
        RUNS,
      );
    });
  }

  it('maximum/minimum split the gradient over the ties the promoted values make', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: -3, max: 3 }), (xs, y) => {
        // y·(1 + 1e-9) rounds to y in float32: a tie for every x = y, as in PyTorch
        const a = tensor(xs).requiresGrad_();
        const b = tensor(y * (1 + 1e-9), { dtype: 'float64' }).requiresGrad_();
        maximum(a, b).sum().backward();
        expect(Array.from(a.grad!.data())).toEqual(xs.map((x) => (x > y ? 1 : x === y ? 0.5 : 0)));
        expect(b.grad!.item()).toBe(xs.reduce((s, x) => s + (x < y ? 1 : x === y ? 0.5 : 0), 0));
        expect(b.grad!.dtype).toBe('float64');
      }),
      RUNS,
    );
  });

  it('a number that is not an int32 makes an int32 tensor float32 (PyTorch treats it as a float)', () => {
    const notInt32 = fc.oneof(fc.double({ noNaN: true }).filter((v) => !(Number.isInteger(v) && Math.abs(v) < 2 ** 31)), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e40, Infinity, NaN, 0.5));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 4 }), notInt32, (xs, v) => {
        const out = tensor(xs, { dtype: 'int32' }).add(v);
        expect(out.dtype).toBe('float32');
        expect(Array.from(out.data())).toEqual(xs.map((x) => Math.fround(x + Math.fround(v))));
      }),
      RUNS,
    );
  });
});

describe('int32 arithmetic wraps modulo 2³², exactly', () => {
  const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  const wrap = (v: bigint): number => Number(BigInt.asIntN(32, v));
  it('mul, add and sub match BigInt arithmetic wrapped to 32 bits', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(int32, int32), { minLength: 1, maxLength: 8 }), (pairs) => {
        const a = tensor(pairs.map((p) => p[0]), { dtype: 'int32' });
        const b = tensor(pairs.map((p) => p[1]), { dtype: 'int32' });
        expect(Array.from(mul(a, b).data())).toEqual(pairs.map(([x, y]) => wrap(BigInt(x) * BigInt(y))));
        expect(Array.from(add(a, b).data())).toEqual(pairs.map(([x, y]) => wrap(BigInt(x) + BigInt(y))));
        expect(Array.from(sub(a, b).data())).toEqual(pairs.map(([x, y]) => wrap(BigInt(x) - BigInt(y))));
      }),
      RUNS,
    );
  });
  it('pow with non-negative integer exponents matches BigInt powers wrapped to 32 bits', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(int32, fc.integer({ min: 0, max: 70 })), { minLength: 1, maxLength: 8 }), (pairs) => {
        const a = tensor(pairs.map((p) => p[0]), { dtype: 'int32' });
        const e = tensor(pairs.map((p) => p[1]), { dtype: 'int32' });
        expect(Array.from(pow(a, e).data())).toEqual(pairs.map(([x, k]) => wrap(BigInt(x) ** BigInt(k))));
      }),
      RUNS,
    );
  });
});

describe('pow at ±1, and gradients at NaN inputs, as PyTorch', () => {
  const anyDouble = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity));
  it('1ʸ = 1 for every y (NaN, ±∞ too), with a zero exponent gradient', () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { minLength: 1, maxLength: 6 }), fc.constantFrom<DType>('float32', 'float64'), (ys, dtype) => {
        const b = tensor(ys, { dtype }).requiresGrad_();
        const out = pow(1, b);
        expect(Array.from(out.data())).toEqual(ys.map(() => 1));
        out.sum().backward();
        expect(Array.from(b.grad!.data())).toEqual(ys.map(() => 0));
      }),
      RUNS,
    );
  });
  it('(−1)^±∞ = 1', () => {
    const out = pow(tensor([-1, -1, -1]), tensor([Infinity, -Infinity, NaN]));
    expect(Array.from(out.data())).toEqual([1, 1, NaN]);
  });
  it('relu, maximum and minimum pass the gradient through NaN inputs', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 6 }), (xs) => {
        const x = tensor(xs, { dtype: 'float64' }).requiresGrad_();
        relu(x).backward(ones([xs.length], { dtype: 'float64' }).mul(3));
        expect(Array.from(x.grad!.data())).toEqual(xs.map((v) => (Number.isNaN(v) || v > 0 ? 3 : 0)));
        for (const f of [maximum, minimum]) {
          const a = tensor(xs, { dtype: 'float64' }).requiresGrad_();
          const b = tensor(xs.map(() => NaN), { dtype: 'float64' }).requiresGrad_();
          f(a, b).sum().backward();
          expect(Array.from(a.grad!.data())).toEqual(xs.map(() => 1));
          expect(Array.from(b.grad!.data())).toEqual(xs.map(() => 1));
        }
      }),
      RUNS,
    );
  });
});

describe('narrow and einsum with ... against their definitions', () => {
  it('narrow(dim, start, length) is slice(start, start + length) when it fits, else an error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -8, max: 8 }), fc.integer({ min: -1, max: 8 }), (n, start, length) => {
        const x = arange(2 * n).reshape(2, n);
        const s = start < 0 ? start + n : start;
        const fits = Number.isInteger(start) && start >= -n && start <= n && length >= 0 && s + length <= n;
        if (!fits) {
          expect(() => x.narrow(1, start, length)).toThrow(WedgeError);
          return;
        }
        expect(x.narrow(1, start, length).toArray()).toEqual(x.slice(1, s, s + length).toArray());
      }),
      RUNS,
    );
  });

  it("einsum('...ij,...jk->...ik') is matmul for any broadcast batch dims", () => {
    const batch = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 });
    fc.assert(
      fc.property(batch, batch, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (ba, bb, m, k, n) => {
        // make the batches broadcastable: where both have a dim, one of them is 1 or they agree
        const rank = Math.min(ba.length, bb.length);
        const bb2 = bb.map((d, i) => (i >= bb.length - rank && d !== 1 ? (ba[ba.length - (bb.length - i)] === 1 ? d : ba[ba.length - (bb.length - i)]) : d));
        const a = randn([...ba, m, k], { dtype: 'float64' });
        const b = randn([...bb2, k, n], { dtype: 'float64' });
        const viaEinsum = einsum('...ij,...jk->...ik', a, b);
        const viaMatmul = matmul(a, b);
        expect(viaEinsum.shape).toEqual(viaMatmul.shape);
        const d = Array.from(viaEinsum.data()).map((v, i) => Math.abs(v - (viaMatmul.data()[i] as number)));
        expect(Math.max(0, ...d)).toBeLessThan(1e-12);
      }),
      { ...RUNS, numRuns: 30 },
    );
  });
});

describe('printing and tidy() stay bounded', () => {
  it('any tensor with a zero-size dim prints at once, whatever its other sizes', () => {
    const dim = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(1e5, 2 ** 31, 2 ** 40));
    fc.assert(
      fc.property(fc.array(dim, { minLength: 1, maxLength: 4 }), fc.nat({ max: 3 }), (shape, at) => {
        shape[at % shape.length] = 0;
        expect(zeros(shape).toString()).toBe(`tensor([], shape=[${shape.join(', ')}])`);
      }),
      RUNS,
    );
  });

  it('a large tensor prints summarised from the values it shows', () => {
    const s = arange(3_000_000).reshape(1000, 3000).toString();
    expect(s.split('\n').length).toBeLessThan(10);
    expect(s).toContain('2999999');
  });

  it('tidy() keeps the graph of a result 20,000 ops deep and frees the rest', () => {
    const x = ones([2], { dtype: 'float64' }).requiresGrad_();
    const spare: Tensor[] = [];
    const y = tidy(() => {
      let h = x;
      for (let i = 0; i < 20_000; i++) h = h.mul(1.0001).add(1e-6);
      spare.push(h.exp());
      return h.sum();
    });
    expect(spare[0].disposed).toBe(true);
    y.backward();
    expect(x.grad!.data()[0]).toBeCloseTo(1.0001 ** 20_000, 6);
  });

  it('tidy() of an async function is refused, naming the reason, and frees nothing', async () => {
    const made: Tensor[] = [];
    const fn = async () => {
      made.push(ones([1]));
      await Promise.resolve();
      return ones([1]);
    };
    // @ts-expect-error tidy() needs a synchronous function: the compiler refuses an async one
    expect(() => tidy(fn)).toThrow(/^tidy: fn returned a Promise; tidy\(\) only tracks synchronous work/);
    expect(made[0].disposed).toBe(false);
    await Promise.resolve();
  });
});

describe('non-numeric operands are WedgeErrors naming the op, for every op of the table', () => {
  const junk = fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer(), { maxLength: 3 }), fc.object(), fc.bigInt());
  it('as either operand of a binary op, or the input of a unary one', () => {
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(ELEMENTWISE_OPS) as (keyof typeof ELEMENTWISE_OPS)[])), junk, fc.boolean(), (name, bad, first) => {
        const { kind, fn } = ELEMENTWISE_OPS[name];
        const x = tensor([1, 2]);
        const call = kind === 'unary' ? () => (fn as (v: unknown) => Tensor)(bad) : () => (fn as (a: unknown, b: unknown) => Tensor)(first ? bad : x, first ? x : bad);
        expect(call).toThrow(WedgeError);
        expect(call).toThrow(new RegExp(`^${name}: `));
      }),
      RUNS,
    );
  });
});

describe('bad shapes are WedgeErrors naming the op and the size', () => {
  const CREATORS: [string, (shape: number[]) => unknown][] = [
    ['zeros', (s) => zeros(s)], ['ones', (s) => ones(s)], ['full', (s) => full(s, 2)], ['rand', (s) => rand(s)],
    ['randn', (s) => randn(s)], ['tensor', (s) => tensor([1, 2], { shape: s })], ['reshape', (s) => zeros([2]).reshape(s)],
    ['expand', (s) => zeros([1]).expand(s)],
  ];
  const badSize = fc.oneof(fc.integer({ max: -2 }), fc.double({ noInteger: true, noDefaultInfinity: true }).filter((v) => !Number.isInteger(v)), fc.constantFrom(NaN, Infinity, -Infinity));
  it('negative, fractional, NaN or infinite sizes are refused by every constructor and reshape', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), badSize, fc.nat(), fc.constantFrom(...CREATORS), (good, bad, at, [op, make]) => {
        const shape = [...good];
        shape.splice(at % (shape.length + 1), 0, bad);
        let error: unknown;
        try {
          make(shape);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(WedgeError);
        expect((error as Error).message.startsWith(`${op}: `)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a shape too large for one tensor names the op, the shape, the elements and the bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2 ** 31, max: 2 ** 50 }), fc.constantFrom<DType>('float32', 'float64', 'int32', 'bool'), (n, dtype) => {
        const bytes = n * { float32: 4, float64: 8, int32: 4, bool: 1 }[dtype];
        expect(() => zeros([n], { dtype })).toThrow(`zeros: shape [${n}] has ${n} elements, ${bytes} bytes`);
      }),
      { ...RUNS, numRuns: 20 },
    );
  });
});

describe('safetensors input that is deep or on a directory', () => {
  it('a header nested any number of levels past the limit is a WedgeError, never a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 65, max: 200_000 }), fc.constantFrom('[', '{"a":'), fc.constantFrom('t', 'm'), (depth, open, where) => {
        const close = open === '[' ? ']' : '}';
        const deep = open.repeat(depth - 2) + '1' + close.repeat(depth - 2);
        const json = where === 't' ? `{"x":${deep}}` : `{"__metadata__":{"k":${deep}}}`;
        expect(() => decodeSafetensors(safetensorsWithHeader(json))).toThrow(/^loadSafetensors: safetensors: the header nests \d+ levels deep/);
      }),
      { ...RUNS, numRuns: 15 },
    );
  });

  it('saving onto a directory, or into a missing folder, is a WedgeError and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wedge-edges-'));
    try {
      mkdirSync(join(dir, 'ckpt'));
      expect(() => saveSafetensors(join(dir, 'ckpt'), { w: ones([1000]) })).toThrow(`saveSafetensors: '${join(dir, 'ckpt')}' is a directory`);
      expect(() => saveSafetensors(join(dir, 'missing', 'm.safetensors'), { w: ones([2]) })).toThrow(/^saveSafetensors: cannot write '.*missing\/m\.safetensors': ENOENT/);
      expect(readdirSync(dir).sort()).toEqual(['ckpt']);
      expect(readdirSync(join(dir, 'ckpt'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a save killed with SIGKILL mid-write leaves the old file intact, and the next save removes its temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wedge-edges-'));
    try {
      const path = join(dir, 'model.safetensors');
      saveSafetensors(path, { w: ones([2]) });
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./children/save_then_hang.ts', import.meta.url)), path]);
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve());
        child.on('exit', (code) => reject(new Error(`the child exited (${code}) before it hung`)));
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
      const left = readdirSync(dir).filter((n) => n.includes('.tmp-'));
      expect(left).toHaveLength(1); // the killed save's temp file, as a kill -9 leaves it
      expect(decodeSafetensors(readFileSync(path)).tensors.w.toArray()).toEqual([1, 1]);
      saveSafetensors(path, { w: zeros([3]) });
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('the next save removes temp files that dead processes left, and keeps a live one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wedge-edges-'));
    try {
      const path = join(dir, 'model.safetensors');
      const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
      writeFileSync(`${path}.tmp-${dead}-abc123`, 'half a file');
      writeFileSync(`${path}.tmp-1-zz9`, 'pid 1 runs'); // init: alive
      writeFileSync(join(dir, 'other.safetensors.tmp-99999999-x'), 'not ours');
      saveSafetensors(path, { w: ones([3]) });
      expect(readdirSync(dir).sort()).toEqual(['model.safetensors', 'model.safetensors.tmp-1-zz9', 'other.safetensors.tmp-99999999-x']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the op table is the single list of elementwise ops', () => {
  it('every op of the table is a free function and a Tensor method of the same name', () => {
    const names = [...UNARY_OPS, ...BINARY_OPS, ...COMPARISON_OPS];
    expect(Object.keys(ELEMENTWISE_OPS).sort()).toEqual([...names].sort());
    const x = tensor([0.5, 1.5], { dtype: 'float64' });
    for (const name of names) {
      const info = ELEMENTWISE_OPS[name];
      const method = (TensorClass.prototype as unknown as Record<string, (...a: unknown[]) => Tensor>)[name];
      expect(typeof method, `Tensor.prototype.${name}`).toBe('function');
      const viaMethod = info.kind === 'unary' ? method.call(x) : method.call(x, x);
      const viaFunction = info.kind === 'unary' ? (info.fn as (x: Tensor) => Tensor)(x) : (info.fn as (a: Tensor, b: Tensor) => Tensor)(x, x);
      expect(viaMethod.toArray(), name).toEqual(viaFunction.toArray());
    }
  });
});
