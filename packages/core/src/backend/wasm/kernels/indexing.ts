// Emitters of the indexing kernels: indexSelect (embedding rows: a gather of whole slices, pure
// copies, so bit-identical for every dtype of 4 or 8 bytes) and indexAdd (its gradient: a
// zero-filled output and sequential adds in the JS reference's order — outer, then index, then the
// slice — so bit-identical too); gather (element by element, copies) and scatterAdd (its gradient:
// in-order adds, on one thread). Threads split outputs only: indexSelect and gather by output
// slices / rows, indexAdd by columns of the slice (every thread walks all the indices for its
// columns), never one output's sum.
import { type ModuleBuilder, f32, f64, i32, v128 } from '../asm.ts';

/** All the indexing kernels (indexAdd for float32 and float64). */
export function emitIndexing(m: ModuleBuilder): void {
  emitIndexSelect(m);
  for (const dtype of ['float32', 'float64'] as const) emitIndexAdd(m, dtype);
  for (const width of [4, 8] as const) emitGather(m, width);
  for (const dtype of ['float32', 'float64'] as const) emitScatterAdd(m, dtype);
}

/**
 * gather_<width>: for index rows r in [lo, hi) of n elements (index contiguous, int32):
 * out[r·n + j] = x[xStarts[r] + j·sRow + ids[r·n + j]·sDim], elements of `width` bytes copied.
 * xStarts holds each row's start without dim's coordinate (sRow = 0 when dim is the last).
 */
function emitGather(m: ModuleBuilder, width: 4 | 8): void {
  const shift = width === 4 ? 2 : 3;
  const t = width === 4 ? 'i32' : 'f64';
  const load = width === 4 ? i32.load : f64.load;
  m.fn(`gather_${width * 8}`, `out[r, j] = x[rowStart_r + j·sRow + ids[r, j]·sDim], ${width}-byte elements copied`,
    ['out', 'x', 'ids', 'xStarts', 'lo', 'hi', 'n', 'sRow', 'sDim'],
    (f, out, x, ids, xStarts, lo, hi, n, sRow, sDim) => {
      const r = f.local('i32', 'r'), j = f.local('i32', 'j'), q = f.local('i32', 'q'), base = f.local('i32', 'base');
      f.for(r, f.get(lo), () => f.get(hi), 1, () => {
        f.set(base, i32.load(i32.add(f.get(xStarts), i32.shl(f.get(r), i32.const(2)))));
        f.set(q, i32.mul(f.get(r), f.get(n)));
        f.for(j, i32.const(0), () => f.get(n), 1, () => {
          const el = i32.add(i32.add(f.get(base), i32.mul(f.get(j), f.get(sRow))), i32.mul(i32.load(i32.add(f.get(ids), i32.shl(f.get(q), i32.const(2)))), f.get(sDim)));
          f.store(t, i32.add(f.get(out), i32.shl(f.get(q), i32.const(shift))), load(i32.add(f.get(x), i32.shl(el, i32.const(shift)))));
          f.set(q, i32.add(f.get(q), i32.const(1)));
        });
      });
    },
  );
}

/**
 * scatter_add_<dtype>: out[0, size) = 0, then for index rows r in order, j in order:
 * out[outStarts[r] + j·sRow + ids[r·n + j]·sDim] += src[r·n + j] (src and ids contiguous).
 */
function emitScatterAdd(m: ModuleBuilder, dtype: 'float32' | 'float64'): void {
  const shift = dtype === 'float32' ? 2 : 3;
  const L = dtype === 'float32' ? f32 : f64;
  const t = dtype === 'float32' ? 'f32' : 'f64';
  m.fn(`scatter_add_${dtype}`, `out[rowStart_r + j·sRow + ids[r, j]·sDim] += src[r, j] into a zero-filled ${dtype} out, in the reference's order`,
    ['out', 'size', 'src', 'ids', 'outStarts', 'rows', 'n', 'sRow', 'sDim'],
    (f, out, size, src, ids, outStarts, rows, n, sRow, sDim) => {
      const r = f.local('i32', 'r'), j = f.local('i32', 'j'), q = f.local('i32', 'q'), base = f.local('i32', 'base'), at = f.local('i32', 'at');
      f.for(q, i32.const(0), () => f.get(size), 1, () => f.store(t, i32.add(f.get(out), i32.shl(f.get(q), i32.const(shift))), L.const(0)));
      f.set(q, i32.const(0));
      f.for(r, i32.const(0), () => f.get(rows), 1, () => {
        f.set(base, i32.load(i32.add(f.get(outStarts), i32.shl(f.get(r), i32.const(2)))));
        f.for(j, i32.const(0), () => f.get(n), 1, () => {
          const el = i32.add(i32.add(f.get(base), i32.mul(f.get(j), f.get(sRow))), i32.mul(i32.load(i32.add(f.get(ids), i32.shl(f.get(q), i32.const(2)))), f.get(sDim)));
          f.set(at, i32.add(f.get(out), i32.shl(el, i32.const(shift))));
          f.store(t, f.get(at), L.add(L.load(f.get(at)), L.load(i32.add(f.get(src), i32.shl(f.get(q), i32.const(shift))))));
          f.set(q, i32.add(f.get(q), i32.const(1)));
        });
      });
    },
  );
}

/**
 * index_select: for output slices q in [lo, hi) (q = o·nIds + i), copy `words` 32-bit words from
 * src slice o·n + ids[i] to out slice q; all operands contiguous, ids int32.
 */
function emitIndexSelect(m: ModuleBuilder): void {
  m.fn('index_select', 'out[o, i, :] = src[o, ids[i], :], whole slices of `words` 32-bit words copied (any 4- or 8-byte dtype)',
    ['out', 'src', 'ids', 'lo', 'hi', 'nIds', 'n', 'words'],
    (f, out, src, ids, lo, hi, nIds, n, words) => {
      const q = f.local('i32', 'q'), o = f.local('i32', 'o'), w = f.local('i32', 'w');
      const from = f.local('i32', 'from'), to = f.local('i32', 'to');
      const bytes = f.let('bytes', i32.shl(f.get(words), i32.const(2)));
      const vecBytes = f.let('vecBytes', i32.and(f.get(bytes), i32.const(-16)));
      f.for(q, f.get(lo), () => f.get(hi), 1, () => {
        f.set(o, i32.divU(f.get(q), f.get(nIds)));
        const i = i32.sub(f.get(q), i32.mul(f.get(o), f.get(nIds)));
        const slice = i32.add(i32.mul(f.get(o), f.get(n)), i32.load(i32.add(f.get(ids), i32.shl(i, i32.const(2)))));
        f.set(from, i32.add(f.get(src), i32.mul(slice, f.get(bytes))));
        f.set(to, i32.add(f.get(out), i32.mul(f.get(q), f.get(bytes))));
        f.for(w, i32.const(0), () => f.get(vecBytes), 16, () => {
          f.store('v128', i32.add(f.get(to), f.get(w)), v128.load(i32.add(f.get(from), f.get(w))));
        });
        f.for(w, f.get(w), () => f.get(bytes), 4, () => {
          f.store('i32', i32.add(f.get(to), f.get(w)), i32.load(i32.add(f.get(from), f.get(w))));
        });
      });
    },
  );
}

/**
 * index_add_<dtype>: out = zeros([outer, n, inner]); for o, i in order: out[o, ids[i], k] +=
 * src[o, i, k], for the columns k in [kLo, kHi) only; src contiguous [outer, nIds, inner].
 */
function emitIndexAdd(m: ModuleBuilder, dtype: 'float32' | 'float64'): void {
  const shift = dtype === 'float32' ? 2 : 3;
  const L = dtype === 'float32' ? f32 : f64;
  const t = dtype === 'float32' ? 'f32' : 'f64';
  m.fn(`index_add_${dtype}`, `out[o, ids[i], k] += src[o, i, k] into a zero-filled ${dtype} out, in the reference's order, columns [kLo, kHi)`,
    ['out', 'src', 'ids', 'outer', 'nIds', 'n', 'inner', 'kLo', 'kHi'],
    (f, out, src, ids, outer, nIds, n, inner, kLo, kHi) => {
      const row = f.local('i32', 'row'), o = f.local('i32', 'o'), i = f.local('i32', 'i'), k = f.local('i32', 'k');
      const po = f.local('i32', 'po'), ps = f.local('i32', 'ps');
      const rowBytes = f.let('rowBytes', i32.shl(f.get(inner), i32.const(shift)));
      const colLo = f.let('colLo', i32.shl(f.get(kLo), i32.const(shift)));
      const colHi = f.let('colHi', i32.shl(f.get(kHi), i32.const(shift)));
      f.for(row, i32.const(0), () => i32.mul(f.get(outer), f.get(n)), 1, () => {
        f.set(po, i32.add(f.get(out), i32.mul(f.get(row), f.get(rowBytes))));
        f.for(k, f.get(colLo), () => f.get(colHi), 1 << shift, () => f.store(t, i32.add(f.get(po), f.get(k)), L.const(0)));
      });
      f.set(ps, f.get(src));
      f.for(o, i32.const(0), () => f.get(outer), 1, () => {
        f.for(i, i32.const(0), () => f.get(nIds), 1, () => {
          const slice = i32.add(i32.mul(f.get(o), f.get(n)), i32.load(i32.add(f.get(ids), i32.shl(f.get(i), i32.const(2)))));
          f.set(po, i32.add(f.get(out), i32.mul(slice, f.get(rowBytes))));
          f.for(k, f.get(colLo), () => f.get(colHi), 1 << shift, () => {
            const at = i32.add(f.get(po), f.get(k));
            f.store(t, at, L.add(L.load(at), L.load(i32.add(f.get(ps), f.get(k)))));
          });
          f.set(ps, i32.add(f.get(ps), f.get(rowBytes)));
        });
      });
    },
  );
}
