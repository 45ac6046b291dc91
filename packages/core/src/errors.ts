// Wedge's errors: one class, messages that name the op and every shape involved.

export class WedgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WedgeError';
  }
}

/** `[2, 3, 4]` */
export const fmtShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Throw `op: message` unless `cond` holds. */
export function check(cond: unknown, op: string, message: () => string): asserts cond {
  if (!cond) throw new WedgeError(`${op}: ${message()}`);
}
