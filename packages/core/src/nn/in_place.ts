// In-place access to a tensor's CPU storage, for loadStateDict and the optimizers: they must
// change a Parameter's numbers without replacing the Parameter (an optimizer holds it by identity).
import type { TypedArray } from '../dtype.ts';
import { WedgeError, fmtShape } from '../errors.ts';
import { CpuStorage } from '../storage.ts';
import type { Tensor } from '../tensor.ts';
import { stridedOffsets } from '../backend/cpu/index.ts';

/**
 * The storage array of `t` and the storage index of each of its elements in row-major order
 * (`null` offsets: element i sits at `base + i`).
 */
export function storageView(t: Tensor, who: string): { data: TypedArray; base: number; offsets: Int32Array | null } {
  if (!(t.storage instanceof CpuStorage)) {
    throw new WedgeError(`${who}: needs a tensor on the CPU to update in place, got one on '${t.device}' ${fmtShape(t.shape)}`);
  }
  if (t.storage.disposed) throw new WedgeError(`${who}: the tensor ${fmtShape(t.shape)} was disposed`);
  return { data: t.storage.data, base: t.offset, offsets: stridedOffsets(t) };
}

/** dst[...] = src[...] elementwise, in dst's own storage. Shapes and dtypes must already agree. */
export function copyInto(dst: Tensor, src: Tensor, who: string): void {
  const values = src.data();
  const { data, base, offsets } = storageView(dst, who);
  if (offsets === null) data.set(values, base);
  else for (let i = 0; i < values.length; i++) data[offsets[i]] = values[i];
}
