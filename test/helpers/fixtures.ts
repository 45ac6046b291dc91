// Reading the tensors of the PyTorch golden fixtures (test/fixtures/*.json, written by
// scripts/fixtures/*.py): shape, dtype and flat values, with NaN and ±inf spelled as strings.
import { type DType, type Tensor, tensor } from '@wedge/core';

export interface Encoded {
  shape: number[];
  dtype: DType;
  data: (number | boolean | string)[];
}

export const decodeValue = (v: number | boolean | string): number =>
  v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);

/** The fixture tensor as a Wedge tensor. @example decode(c.inputs[0], true) // a leaf that requires grad */
export const decode = (e: Encoded, requiresGrad = false): Tensor =>
  tensor(e.data.map(decodeValue), { dtype: e.dtype, shape: e.shape, requiresGrad });

/** A safetensors file holding only this JSON header (for tests of malformed headers). */
export function safetensorsWithHeader(json: string): Uint8Array {
  const h = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + h.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
  bytes.set(h, 8);
  return bytes;
}
