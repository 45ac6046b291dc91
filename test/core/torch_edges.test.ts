// Wedge against PyTorch 1.13.1 at the edges of its semantics (test/fixtures/core_edges.json, made by
// scripts/fixtures/core_edges.py): mixed-dtype promotion, pow at ±1 with NaN/±inf exponents,
// gradients at NaN inputs, bool and int32 fills, int32 wrapping, narrow/chunk/where/sign/arange/
// linspace corner cases, einsum with '...', and how empty tensors print.
// Values and dtypes must match exactly (float64 gradients to 1e-12): these are not rounding questions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type DType, type Tensor, zeros, full, fullLike, arange, linspace, tril, triu, where, maximum, minimum,
  pow, relu, sign, einsum, eq, lt, add, mul, sub,
} from '@wedge/core';
import { assertClose } from '../helpers/assert_close.ts';
import { type Encoded, decode } from '../helpers/fixtures.ts';

interface Case {
  name: string;
  inputs: Encoded[];
  outputs: Encoded[];
  grads: (Encoded | null)[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/core_edges.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: Case[];
  formats: { shape: number[]; dtype: DType; torch: string }[];
};

type Impl = (...xs: Tensor[]) => Tensor | Tensor[];

/** The Wedge side of each case of the generator script, by name. */
const IMPLS: Record<string, Impl> = {
  'eq int32 vs float32': (a, b) => eq(a, b),
  'lt int32 vs float32': (a, b) => lt(a, b),
  'eq float32 vs float64 0-d': (a, b) => eq(a, b),
  'eq float32 vs float64 [1]': (a, b) => eq(a, b),
  'add int32 vs float32': (a, b) => add(a, b),
  'mul int32 vs float64 0-d': (a, b) => mul(a, b),
  'sub int32 vs float32 0-d': (a, b) => sub(a, b),
  'maximum float32 vs float64 0-d (ties after the cast)': (a, b) => maximum(a, b),
  'minimum float32 vs float64 0-d (ties after the cast)': (a, b) => minimum(a, b),
  'maximum float64 vs float32 (float64 wins)': (a, b) => maximum(a, b),
  'add float32 vs float64 0-d gradient': (a, b) => add(a, b),
  'int32 + 1e40 is float32': (x) => x.add(1e40),
  'int32 + 2.5 is float32': (x) => x.add(2.5),
  'int32 * 3 stays int32': (x) => x.mul(3),
  'bool + 1 is int': (x) => x.add(1),
  'int32 lt 0.5': (x) => x.lt(0.5),

  'pow(±1, NaN and ±inf)': (a, b) => pow(a, b),
  'pow(±1, NaN and ±inf) float64': (a, b) => pow(a, b),
  'pow(1, tensor)': (x) => pow(1, x),
  'pow(x, NaN) away from 1': (x) => pow(x, NaN),

  'relu at NaN': (x) => relu(x),
  'maximum with NaN operands': (a, b) => maximum(a, b),
  'minimum with NaN operands': (a, b) => minimum(a, b),
  'maximum with a NaN 0-d operand': (a, b) => maximum(a, b),

  'int32 mul wraps': (a, b) => a.mul(b),
  'int32 pow wraps': (x) => x.pow(40),
  'int32 pow by tensor exponent': (a, b) => a.pow(b),
  'int32 square wraps': (x) => x.pow(2),

  'full bool -2': () => full([3], -2, { dtype: 'bool' }),
  'full bool 0.5': () => full([2], 0.5, { dtype: 'bool' }),
  'full int32 2.7': () => full([2], 2.7, { dtype: 'int32' }),
  'full int32 -2.7': () => full([2], -2.7, { dtype: 'int32' }),
  'fullLike bool 3': (x) => fullLike(x, 3),
  'maskedFill bool -2': (x, m) => x.maskedFill(m, -2),
  'maskedFill int32 2.7': (x, m) => x.maskedFill(m, 2.7),
  'tril bool': (x) => tril(x),
  'triu bool diagonal 1': (x) => triu(x, 1),
  'tril int32': (x) => tril(x, -1),
  'sign bool': (x) => sign(x),
  'sign float': (x) => x.sign(),

  'chunk of an empty dim': (x) => x.chunk(3, 1),
  'chunk of an empty first dim': (x) => x.chunk(2),
  'chunk 5 into 3': (x) => x.chunk(3),
  'chunk 6 into 4': (x) => x.chunk(4),
  'where(c, true, 1)': (c) => where(c, true, 1),
  'where(c, 1, 0)': (c) => where(c, 1, 0),
  'where(c, 1.5, 0)': (c) => where(c, 1.5, 0),
  'where(c, true, false)': (c) => where(c, true, false),
  'where(c, int32 x, 0.5)': (c, x) => where(c, x, 0.5),
  'where(c, bool x, 2)': (c, x) => where(c, x, 2),
  'where(c, float64 x, 1)': (c, x) => where(c, x, 1),
};

// cases whose arguments are in their names: narrow, arange, linspace, einsum
for (const c of fixture.cases) {
  let m: RegExpExecArray | null;
  if ((m = /^narrow dim 1 start (-?\d+) length (\d+)$/.exec(c.name))) {
    const [start, length] = [Number(m[1]), Number(m[2])];
    IMPLS[c.name] = (x) => x.narrow(1, start, length);
  } else if ((m = /^(arange|linspace)\((.*)\) (int32|float32)$/.exec(c.name))) {
    const args = m[2].split(',').map(Number);
    const dtype = m[3] as DType;
    IMPLS[c.name] =
      m[1] === 'arange'
        ? () => arange(args[0], args[1], args[2] ?? 1, m![3] === 'int32' ? { dtype } : {})
        : () => linspace(args[0], args[1], args[2], { dtype });
  } else if ((m = /^einsum '([^']*)'/.exec(c.name))) {
    const equation = m[1];
    IMPLS[c.name] = (...xs) => einsum(equation, ...xs);
  }
}

const exact = (dtype: DType) => (dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : dtype === 'float32' ? { rtol: 1e-6, atol: 1e-7 } : { rtol: 0, atol: 0 });

describe(`Wedge matches PyTorch ${fixture.torch} at the edges`, () => {
  it('has an implementation for every case of the script', () => {
    expect(fixture.cases.map((c) => c.name).filter((n) => !(n in IMPLS))).toEqual([]);
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      const inputs = c.inputs.map((e, i) => decode(e, c.grads[i] !== null && (e.dtype === 'float32' || e.dtype === 'float64')));
      const result = IMPLS[c.name](...inputs);
      const outs = Array.isArray(result) ? result : [result];
      expect(outs.length, `${c.name}: number of outputs`).toBe(c.outputs.length);
      outs.forEach((o, k) => {
        const want = c.outputs[k];
        expect(o.dtype, `${c.name}: output ${k} dtype`).toBe(want.dtype);
        expect(o.shape, `${c.name}: output ${k} shape`).toEqual(want.shape);
        assertClose(o, decode(want), { ...exact(want.dtype), label: `${c.name}: output ${k}` });
      });
      if (c.grads.every((g) => g === null)) return;
      outs.filter((o) => o.requiresGrad).map((o) => o.sum()).reduce((a, b) => a.add(b)).backward();
      inputs.forEach((x, i) => {
        const want = c.grads[i];
        if (want === null) return;
        expect(x.grad, `${c.name}: input ${i} has no gradient`).not.toBeNull();
        expect(x.grad!.dtype, `${c.name}: gradient ${i} dtype`).toBe(want.dtype);
        assertClose(x.grad!, decode(want), { ...exact(want.dtype), label: `${c.name}: gradient of input ${i}` });
      });
    });
  }
});

describe('empty tensors print as PyTorch prints them, without walking their dims', () => {
  for (const f of fixture.formats) {
    it(`${f.dtype} ${JSON.stringify(f.shape)}`, () => {
      const s = zeros(f.shape, { dtype: f.dtype }).toString();
      expect(s.slice('tensor('.length, s.lastIndexOf(', shape='))).toBe(f.torch.replace(/^tensor\(/, '').replace(/(, size=.*|, dtype=.*)?\)$/, ''));
      expect(s).toContain(`shape=${JSON.stringify(f.shape).replace(/,/g, ', ')}`);
    });
  }
});
