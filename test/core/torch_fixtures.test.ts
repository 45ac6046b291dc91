// Wedge against PyTorch 1.13.1 golden values (test/fixtures/core_ops.json, made by
// scripts/fixtures/core_ops.py): forward outputs and input gradients of every op, and toString().
//
// Tolerances: float32 rtol 1e-5 with atol 1e-6 (values are O(1); the atol covers summation order,
// where Wedge accumulates in float64 and PyTorch in float32), widened per case in the fixture where a
// longer sum needs it; float64 rtol 1e-10, atol 1e-12; int32 and bool exactly.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type DType, type Tensor, tensor, add, sub, mul, div, neg, pow, exp, log, sqrt, abs, tanh, sigmoid, relu, sin, cos,
  square, maximum, minimum, eq, ne, lt, le, gt, ge, where, maskedFill, sum, mean, max, min, argmax, argmin, reshape,
  view, flatten, permute, transpose, unsqueeze, squeeze, expand, slice, split, chunk, cat, stack, contiguous, clone,
  matmul, outer, einsum, gather, indexSelect, softmax, logSoftmax, tril, triu, cast,
} from '@wedge/core';
import { assertClose } from '../helpers/assert_close.ts';
import { type Encoded, decode } from '../helpers/fixtures.ts';

interface Case {
  name: string;
  op: string;
  args: Record<string, any>;
  inputs: Encoded[];
  outputs: Encoded[];
  weights: (Encoded | null)[];
  grads: (Encoded | null)[];
  tol?: { rtol?: number; atol?: number };
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/core_ops.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: Case[];
  formats: { tensor: Encoded; torch: string }[];
};

type Impl = (xs: Tensor[], a: Record<string, any>) => Tensor | Tensor[];
const reduceArgs = (a: Record<string, any>): [number | number[] | undefined, boolean] => [a.dim ?? undefined, a.keepdim ?? false];

/** The Wedge side of each op key of the generator script. */
const OPS: Record<string, Impl> = {
  neg: ([x]) => neg(x),
  exp: ([x]) => exp(x),
  log: ([x]) => log(x),
  sqrt: ([x]) => sqrt(x),
  abs: ([x]) => abs(x),
  tanh: ([x]) => tanh(x),
  sigmoid: ([x]) => sigmoid(x),
  relu: ([x]) => relu(x),
  sin: ([x]) => sin(x),
  cos: ([x]) => cos(x),
  square: ([x]) => square(x),
  add: ([a, b]) => add(a, b),
  sub: ([a, b]) => sub(a, b),
  mul: ([a, b]) => mul(a, b),
  div: ([a, b]) => div(a, b),
  pow: ([a, b]) => pow(a, b),
  powScalar: ([x], a) => pow(x, a.exponent),
  scalarPow: ([x], a) => pow(a.base, x),
  addScalar: ([x], a) => add(x, a.value),
  maximum: ([a, b]) => maximum(a, b),
  minimum: ([a, b]) => minimum(a, b),
  eq: ([a, b]) => eq(a, b),
  ne: ([a, b]) => ne(a, b),
  lt: ([a, b]) => lt(a, b),
  le: ([a, b]) => le(a, b),
  gt: ([a, b]) => gt(a, b),
  ge: ([a, b]) => ge(a, b),
  where: ([c, a, b]) => where(c, a, b),
  maskedFill: ([x, m], a) => maskedFill(x, m, a.value),
  maskedSoftmax: ([x, m], a) => softmax(maskedFill(x, m, -Infinity), a.dim),
  sum: ([x], a) => sum(x, ...reduceArgs(a)),
  mean: ([x], a) => mean(x, ...reduceArgs(a)),
  max: ([x], a) => max(x, ...reduceArgs(a)),
  min: ([x], a) => min(x, ...reduceArgs(a)),
  maxDimValues: ([x], a) => max(x, ...reduceArgs(a)),
  argmax: ([x], a) => argmax(x, a.dim ?? undefined, a.keepdim ?? false),
  argmin: ([x], a) => argmin(x, a.dim ?? undefined, a.keepdim ?? false),
  reshape: ([x], a) => reshape(x, a.shape),
  view: ([x], a) => view(x, a.shape),
  flatten: ([x], a) => flatten(x, a.start, a.end),
  permute: ([x], a) => permute(x, a.dims),
  transpose: ([x], a) => transpose(x, a.dim0, a.dim1),
  unsqueeze: ([x], a) => unsqueeze(x, a.dim),
  squeeze: ([x], a) => squeeze(x, a.dim ?? undefined),
  expand: ([x], a) => expand(x, a.shape),
  slice: ([x], a) => slice(x, a.dim, a.start ?? undefined, a.end ?? undefined, a.step ?? 1),
  split: ([x], a) => split(x, a.sizes, a.dim),
  chunk: ([x], a) => chunk(x, a.chunks, a.dim),
  cat: (xs, a) => cat(xs, a.dim),
  stack: (xs, a) => stack(xs, a.dim),
  contiguousT: ([x]) => contiguous(transpose(x, 0, -1)),
  clone: ([x]) => clone(x),
  matmul: ([a, b]) => matmul(a, b),
  matmulBT: ([a, b]) => matmul(a, b.mT),
  matmulAT: ([a, b]) => matmul(a.mT, b),
  outer: ([a, b]) => outer(a, b),
  einsum: (xs, a) => einsum(a.equation, ...xs),
  gather: ([x, i], a) => gather(x, a.dim, i),
  indexSelect: ([x, i], a) => indexSelect(x, a.dim, i),
  softmax: ([x], a) => softmax(x, a.dim),
  logSoftmax: ([x], a) => logSoftmax(x, a.dim),
  tril: ([x], a) => tril(x, a.diagonal ?? 0),
  triu: ([x], a) => triu(x, a.diagonal ?? 0),
  cast: ([x], a) => cast(x, a.dtype),
  attention: ([q, k, v, bias]) => matmul(softmax(add(div(matmul(q, k.mT), Math.sqrt(q.shape.at(-1)!)), bias), -1), v),
};

/** Tolerances for a dtype, widened by the case's own where it asks. */
function tolerance(dtype: DType, c: Case): { rtol: number; atol: number } {
  if (dtype === 'float64') return { rtol: 1e-10, atol: 1e-12 };
  if (dtype === 'float32') return { rtol: 1e-5, atol: 1e-6, ...c.tol };
  return { rtol: 0, atol: 0 };
}

describe(`Wedge matches PyTorch ${fixture.torch} on the op fixtures`, () => {
  it('has fixtures for every op the script knows', () => {
    const ops = new Set(fixture.cases.map((c) => c.op));
    expect([...ops].filter((op) => !(op in OPS))).toEqual([]);
    expect(Object.keys(OPS).filter((op) => !ops.has(op))).toEqual([]);
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      const inputs = c.inputs.map((e) => decode(e, e.dtype === 'float32' || e.dtype === 'float64'));
      const result = OPS[c.op](inputs, c.args);
      const outs = Array.isArray(result) ? result : [result];
      expect(outs.length).toBe(c.outputs.length);
      outs.forEach((o, k) => {
        const want = c.outputs[k];
        expect(o.dtype, `${c.name}: output ${k} dtype`).toBe(want.dtype);
        assertClose(o, decode(want), { ...tolerance(want.dtype, c), label: `${c.name}: output ${k}` });
      });

      // L = Σₖ Σ wₖ ⊙ outₖ, as in the script
      const terms = outs.flatMap((o, k) => (c.weights[k] && o.requiresGrad ? [mul(o, decode(c.weights[k]!)).sum()] : []));
      if (terms.length === 0) {
        expect(c.grads.every((g) => g === null), `${c.name}: PyTorch has gradients where Wedge has no graph`).toBe(true);
        return;
      }
      terms.reduce((a, b) => a.add(b)).backward();
      inputs.forEach((x, i) => {
        const want = c.grads[i];
        if (want === null) {
          expect(x.grad, `${c.name}: input ${i} should get no gradient`).toBeNull();
          return;
        }
        expect(x.grad, `${c.name}: input ${i} has no gradient`).not.toBeNull();
        assertClose(x.grad!, decode(want), { ...tolerance(want.dtype, c), label: `${c.name}: gradient of input ${i}` });
      });
    });
  }
});

describe("toString() prints values as PyTorch's str() does", () => {
  for (const f of fixture.formats) {
    it(`${f.tensor.dtype} ${JSON.stringify(f.tensor.shape)}: ${f.torch.slice(0, 40).replace(/\n/g, '⏎')}`, () => {
      const s = decode(f.tensor).toString();
      const ours = s.slice('tensor('.length, s.lastIndexOf(', shape='));
      const theirs = f.torch.replace(/^tensor\(/, '').replace(/(, dtype=torch\.\w+)?\)$/, '');
      expect(ours).toBe(theirs);
    });
  }
});
