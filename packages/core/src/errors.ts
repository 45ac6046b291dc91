// Wedge's errors: one class, messages that name the op and every shape involved.

/**
 * Every error Wedge raises for bad input: the message names the op and the shapes or values involved.
 * @example
 * try { matmul(zeros([2, 3]), zeros([4, 5])); } catch (e) { if (e instanceof WedgeError) console.log(e.message); }
 */
export class WedgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WedgeError';
  }
}

/** `[2, 3, 4]` @example fmtShape([2, 3]) // '[2, 3]' */
export const fmtShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** A short description of any value for an error message: `"a"`, `NaN`, `null`, `a Tensor [2, 3]`. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined || v === null) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'function') return 'a function';
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  const shape = (v as { shape?: unknown }).shape;
  if (name === 'Tensor' && Array.isArray(shape)) return `a Tensor ${fmtShape(shape)}`;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
