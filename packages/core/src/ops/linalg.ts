// matmul with PyTorch's rules (1-D operands, batch dims that broadcast), and outer/einsum built on
// differentiable primitives.
import { isFloat, promoteTypes } from '../dtype.ts';
import { WedgeError, describeValue, fmtShape } from '../errors.ts';
import { broadcastShapes, checkSize } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { runKernel } from '../backend/dispatch.ts';
import { defineOp } from './define.ts';
import { checkTensor, mul } from './elementwise.ts';
import { expand, permute, reshape, squeeze, transpose, unsqueeze } from './movement.ts';
import { sum } from './reduce.ts';

/** [..., M, K] @ [..., K, N] with equal batch dims: the primitive. */
const bmm = defineOp<{ dtype: import('../dtype.ts').DType }>({
  name: 'matmul',
  inputs: ['a', 'b'],
  forward: ([a, b], attrs) => runKernel('matmul', [a, b], attrs),
  backward: (gOut, { inputs: [a, b] }) => ({
    a: () => bmmOf(gOut, transpose(b, -2, -1)), // ∂L/∂A = G·Bᵀ
    b: () => bmmOf(transpose(a, -2, -1), gOut), // ∂L/∂B = Aᵀ·G
  }),
});

const bmmOf = (a: Tensor, b: Tensor): Tensor => bmm([a, b], { dtype: promoteTypes(a.dtype, b.dtype) });

/**
 * Matrix product with PyTorch's rules: 1-D·1-D is a dot product, a 1-D operand gains (then loses)
 * a dim, and batch dims broadcast. Transposed operands are read through their strides, never copied.
 * @example matmul(q, k.transpose(-2, -1)) // [B, H, T, T]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', a);
  checkTensor('matmul', b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new WedgeError(`matmul: both operands need at least 1 dim: a ${fmtShape(a.shape)} vs b ${fmtShape(b.shape)}`);
  }
  const ka = a.shape[a.ndim - 1];
  const kb = b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2];
  if (ka !== kb) {
    throw new WedgeError(`matmul: inner sizes differ: a ${fmtShape(a.shape)} vs b ${fmtShape(b.shape)} (${ka} ≠ ${kb})`);
  }
  if (a.dtype !== b.dtype && !(isFloat(a.dtype) && isFloat(b.dtype))) {
    throw new WedgeError(`matmul: dtypes differ: a ${a.dtype} ${fmtShape(a.shape)} vs b ${b.dtype} ${fmtShape(b.shape)}`);
  }
  if (a.dtype === 'bool') throw new WedgeError(`matmul: not defined for bool tensors (a ${fmtShape(a.shape)})`);
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a; // [K] → [1, K]
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b; // [K] → [K, 1]
  const batch = matmulBatch(a, b, a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const M = a2.shape[a2.ndim - 2];
  const N = b2.shape[b2.ndim - 1];
  checkSize('matmul', [...batch, M, N], promoteTypes(a.dtype, b.dtype)); // before any kernel allocates
  const out = bmmOf(expand(a2, [...batch, M, ka]), expand(b2, [...batch, kb, N]));
  if (a.ndim === 1 && b.ndim === 1) return reshape(out, []);
  if (a.ndim === 1) return squeeze(out, -2);
  if (b.ndim === 1) return squeeze(out, -1);
  return out;
}

/** The broadcast batch shape; the error names both full shapes and the axis counted from the right. */
function matmulBatch(a: Tensor, b: Tensor, batchA: readonly number[], batchB: readonly number[]): number[] {
  const rank = Math.max(batchA.length, batchB.length);
  for (let i = 1; i <= rank; i++) {
    const da = batchA[batchA.length - i] ?? 1;
    const db = batchB[batchB.length - i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new WedgeError(
        `matmul: batch dims cannot broadcast: a ${fmtShape(a.shape)} vs b ${fmtShape(b.shape)} (axis ${-i - 2}: ${da} ≠ ${db})`,
      );
    }
  }
  return broadcastShapes('matmul', batchA, batchB);
}

/**
 * Outer product of two vectors: [M] ⊗ [N] → [M, N]. Same as einsum('i,j->ij', a, b).
 * @example
 * outer(tensor([1, 2]), tensor([3, 4, 5])).shape // [2, 3]
 */
export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new WedgeError(`outer: needs two 1-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

/**
 * Einstein summation over one or two operands ('i,j->ij', 'bij,bjk->bik', 'ij->j', '...ij,...jk->...ik');
 * an index may not repeat within one operand (no traces). `...` stands for the dims an operand has
 * beyond its letters; those broadcast across operands (right-aligned), and are kept in front of the
 * output when it is implicit. Each operand is permuted and unsqueezed into a shared index order,
 * multiplied with broadcasting, and summed over indices missing from the output: simple,
 * differentiable, and memory-hungry for large contractions.
 * @example einsum('i,j->ij', t, invFreq) // RoPE's angle table
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  if (typeof equation !== 'string') throw new WedgeError(`einsum: the equation must be a string, got ${describeValue(equation)}`);
  const eq = equation.replace(/\s+/g, '');
  const sides = eq.split('->');
  if (sides.length > 2) throw new WedgeError(`einsum: '${equation}' has ${sides.length - 1} '->'; an equation has at most one`);
  const [lhs, rhsGiven] = sides;
  const rawTerms = lhs.split(',');
  if (rawTerms.length !== operands.length || operands.length < 1 || operands.length > 2) {
    throw new WedgeError(`einsum: '${equation}' names ${rawTerms.length} operands, got ${operands.length} (1 or 2 supported)`);
  }
  operands.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new WedgeError(`einsum: operand ${i} must be a Tensor, got ${describeValue(x)}`);
  });
  const wellFormed = /^[a-zA-Z]*(\.\.\.)?[a-zA-Z]*$/;
  for (const term of [...rawTerms, ...(rhsGiven === undefined ? [] : [rhsGiven])]) {
    if (!wellFormed.test(term)) {
      throw new WedgeError(`einsum: term '${term}' of '${equation}' is not letters with at most one '...'`);
    }
  }
  // `...` becomes letters the equation does not use, one per broadcast dim, right-aligned
  const ellipsisRanks = rawTerms.map((term, i) => (term.includes('...') ? operands[i].ndim - (term.length - 3) : 0));
  ellipsisRanks.forEach((r, i) => {
    if (r < 0) throw new WedgeError(`einsum: term '${rawTerms[i]}' does not fit operand ${i} of shape ${fmtShape(operands[i].shape)}`);
  });
  const used = new Set(eq.replace(/[^a-zA-Z]/g, ''));
  const spare = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'].filter((c) => !used.has(c));
  const rank = Math.max(0, ...ellipsisRanks);
  if (rank > spare.length) throw new WedgeError(`einsum: '...' spans ${rank} dims in '${equation}', more than the ${spare.length} letters left to name them`);
  const ell = spare.slice(0, rank).join('');
  const terms = rawTerms.map((term, i) => term.replace('...', ell.slice(rank - ellipsisRanks[i])));
  const sizes = new Map<string, number>();
  terms.forEach((term, i) => {
    const x = operands[i];
    if (term.length !== x.ndim || new Set(term).size !== term.length) {
      throw new WedgeError(`einsum: term '${rawTerms[i]}' does not fit operand ${i} of shape ${fmtShape(x.shape)}`);
    }
    [...term].forEach((c, k) => {
      const have = sizes.get(c);
      if (have !== undefined && have !== x.shape[k] && have !== 1 && x.shape[k] !== 1) {
        const name = ell.includes(c) ? `'...' dim ${ell.indexOf(c) - rank}` : `index '${c}'`;
        throw new WedgeError(`einsum: ${name} has size ${have} and ${x.shape[k]} in '${equation}'`);
      }
      sizes.set(c, Math.max(have ?? 1, x.shape[k]));
    });
  });
  const all = [...sizes.keys()];
  const once = all.filter((c) => !ell.includes(c) && terms.join('').split(c).length === 2).sort();
  const rhs = rhsGiven === undefined ? ell + once.join('') : rhsGiven.replace('...', ell);
  if (new Set(rhs).size !== rhs.length) throw new WedgeError(`einsum: output '${rhsGiven}' repeats an index in '${equation}'`);
  if ([...rhs].some((c) => !sizes.has(c))) throw new WedgeError(`einsum: output '${rhs}' names an index missing from the inputs`);
  const order = [...rhs, ...all.filter((c) => !rhs.includes(c))];
  const aligned = operands.map((x, i) => {
    const term = terms[i];
    const present = order.filter((c) => term.includes(c));
    let y = permute(x, present.map((c) => term.indexOf(c)));
    order.forEach((c, k) => {
      if (!term.includes(c)) y = unsqueeze(y, k);
    });
    return y;
  });
  const product = aligned.length === 2 ? mul(aligned[0], aligned[1]) : aligned[0];
  const contracted = order.map((_, k) => k).slice(rhs.length);
  return contracted.length > 0 ? sum(product, contracted) : product;
}
