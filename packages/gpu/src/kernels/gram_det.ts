// The triple-product attention score as one kernel: for query row i and key row j,
//   score[i, j] = −scale · det G,  G = Gram(qᵢ, kⱼ, rᵢ) = [[q·q, q·k, q·r], [k·q, k·k, k·r], [r·q, r·k, r·r]]
//   det G = qq·kk·rr + 2·qk·rk·rq − qq·rk² − kk·rq² − rr·qk²
// (the seed's term order), replacing the ten [B, H, T, T] temporaries of the composite.
import type { Tensor } from '@wedge/core';
import { mul, add, neg, matmul, sum, transpose, tril, ones, maskedFill, WedgeError, fmtShape } from '@wedge/core';
import { emitOffsets, lit } from '../codegen.ts';
import { operandKey, operandOf, readOperand, type KernelRunner } from '../runtime.ts';

/** Attributes of the `gramDetScore` kernel. */
export interface GramDetAttrs {
  /** Multiplies −det G (the seed uses 1 / d_head^1.5). */
  readonly scale: number;
  /** Write −∞ above the diagonal (j > i), as the causal mask does. Default false. */
  readonly causal?: boolean;
}

/** Shape rule of gramDetScore: q, r [..., T, D] and k [..., S, D] with equal batch dims. */
export function checkGramDetShapes(q: Tensor, k: Tensor, r: Tensor): void {
  const ok =
    q.ndim >= 2 && k.ndim === q.ndim && r.ndim === q.ndim &&
    q.shape.every((d, i) => d === r.shape[i]) &&
    k.shape.every((d, i) => (i === q.ndim - 2 ? true : d === q.shape[i]));
  if (!ok) {
    throw new WedgeError(
      `gramDetScore: needs q, r [..., T, D] and k [..., S, D] with equal batch dims: ` +
        `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, r ${fmtShape(r.shape)}`,
    );
  }
}

/** score [..., T, S] = −scale · det Gram(qᵢ, kⱼ, rᵢ), one thread per (i, j), six dot products in one loop. */
export function gramDetScore(runner: KernelRunner, q: Tensor, k: Tensor, r: Tensor, attrs: GramDetAttrs): Tensor {
  checkGramDetShapes(q, k, r);
  const nb = q.ndim - 2;
  const [T, D] = q.shape.slice(nb);
  const S = k.shape[nb];
  const batch = q.shape.slice(0, nb);
  const ops = [operandOf(q), operandOf(k), operandOf(r)];
  const causal = attrs.causal ?? false;
  const key = `gramDet|${q.shape.join(',')}|${S}|${lit(attrs.scale)}|${causal}|${ops.map(operandKey).join('|')}`;
  const source = (): string => {
    const strided = ops.flatMap((o, n) => (o.kind === 'num' ? [] : [n]));
    const batchOps = strided.map((n) => ({ offset: ops[n].offset, strides: ops[n].strides.slice(0, nb) }));
    const base = (n: number, rowVar: string): string => {
      const p = strided.indexOf(n);
      return p < 0 ? '0.0' : `p${p} + ${rowVar} * ${lit(ops[n].strides[nb])}`;
    };
    const read = (n: number, b: string): string => readOperand(ops, n, `${b} + d * ${lit(ops[n].strides[nb + 1])}`);
    return `function(a0, a1, a2) {
      const idx = this.thread.x + 0.0;
      const row = ${S === 1 ? 'idx' : `wedgeFloorDiv(idx, ${lit(S)})`};
      const j = idx - row * ${lit(S)};
      const bi = ${T === 1 ? 'row' : `wedgeFloorDiv(row, ${lit(T)})`};
      const i = row - bi * ${lit(T)};
      ${emitOffsets('bi', batch, batchOps, 'p')}
      const qb = ${base(0, 'i')};
      const kb = ${base(1, 'j')};
      const rb = ${base(2, 'i')};
      let qq = 0.0; let kk = 0.0; let rr = 0.0; let qk = 0.0; let rk = 0.0; let rq = 0.0;
      for (let d = 0; d < ${D}; d++) {
        const qv = ${read(0, 'qb')};
        const kv = ${read(1, 'kb')};
        const rv = ${read(2, 'rb')};
        qq += qv * qv; kk += kv * kv; rr += rv * rv;
        qk += qv * kv; rk += rv * kv; rq += rv * qv;
      }
      const det = qq * kk * rr + 2.0 * qk * rk * rq - qq * (rk * rk) - kk * (rq * rq) - rr * (qk * qk);
      ${causal ? `if (j > i) { return ${lit(-Infinity)}; }` : ''}
      return -det * ${lit(attrs.scale)};
    }`;
  };
  return runner.run(key, source, ops, [...batch, T, S], 'float32');
}

/**
 * The same score written with core ops (the seed's composite): the reference the kernel is tested
 * against, and what a model runs when no backend has the kernel. Differentiable.
 * @example gramDetScoreReference(q, k, r, { scale: 1 / 16 ** 1.5, causal: true }) // [B, H, T, T]
 */
export function gramDetScoreReference(q: Tensor, k: Tensor, r: Tensor, attrs: GramDetAttrs): Tensor {
  checkGramDetShapes(q, k, r);
  const dQQ = sum(mul(q, q), -1, true); // [..., T, 1]
  const dRR = sum(mul(r, r), -1, true); // [..., T, 1]
  const dRQ = sum(mul(r, q), -1, true); // [..., T, 1]
  const dKK = transpose(sum(mul(k, k), -1, true), -2, -1); // [..., 1, S]
  const dQK = matmul(q, transpose(k, -2, -1)); // [..., T, S]
  const dRK = matmul(r, transpose(k, -2, -1)); // [..., T, S]
  const term1 = mul(mul(dQQ, dKK), dRR);
  const term2 = mul(mul(mul(2, dQK), dRK), dRQ);
  const term3 = neg(mul(dQQ, mul(dRK, dRK)));
  const term4 = neg(mul(dKK, mul(dRQ, dRQ)));
  const term5 = neg(mul(dRR, mul(dQK, dQK)));
  const det = add(add(add(add(term1, term2), term3), term4), term5);
  const scores = mul(neg(det), attrs.scale);
  if (!attrs.causal) return scores;
  const T = q.shape[q.ndim - 2];
  const S = k.shape[k.ndim - 2];
  return maskedFill(scores, tril(ones([T, S])).eq(0), -Infinity);
}
