// Ownership of tensor memory: tidy() frees what a function made and did not return.
// On the CPU this only drops references; on the GPU it releases textures.
import type { Storage } from './storage.ts';
import type { Tensor } from './tensor.ts';

const scopes: Tensor[][] = [];

/**
 * The scope in which each storage first appeared (null: outside every scope). NOTE: a view made
 * inside a scope (a weight's `.mT`, a slice of a buffer) shares an older tensor's storage; only
 * the scope that saw a storage first may free it, or tidy() would free the model's weights.
 */
const storageOwner = new WeakMap<Storage, Tensor[] | null>();

/** Called by the Tensor constructor: the innermost tidy() scope owns the new tensor. */
export function noteTensorCreated(t: Tensor): void {
  const scope = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  if (!storageOwner.has(t.storage)) storageOwner.set(t.storage, scope);
  if (scope !== null) scope.push(t);
}

/** Remove `t` from every open scope so that tidy() leaves it alone (tfjs's keep). */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) {
    const i = scope.indexOf(t);
    if (i >= 0) scope.splice(i, 1);
  }
  storageOwner.set(t.storage, null); // views of a kept tensor must not free it either
  return t;
}

/**
 * Run `fn`, then dispose every tensor it created except those it returns (in an array or object
 * too), those kept with keep(), and those the returned tensors' graphs still need for backward().
 * Storage shared with a survivor (a view) is never freed.
 * @example const loss = tidy(() => model.forward(x).logSoftmax(-1).mean());
 */
export function tidy<T>(fn: () => T): T {
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Tensor>();
  const visit = (t: Tensor): void => {
    if (survivors.has(t)) return;
    survivors.add(t);
    if (t.grad) visit(t.grad);
    if (t.node && !t.node.freed) for (const x of t.node.inputs) visit(x);
  };
  collectTensors(result, visit);
  const liveStorage = new Set([...survivors].map((t) => t.storage));
  const outer = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) {
      outer?.push(t);
      if (storageOwner.get(t.storage) === scope) storageOwner.set(t.storage, outer ?? null);
    } else if (!liveStorage.has(t.storage) && storageOwner.get(t.storage) === scope) {
      t.storage.dispose();
    }
  }
  return result;
}

function collectTensors(value: unknown, visit: (t: Tensor) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ('storage' in value && 'shape' in value && 'strides' in value) {
    visit(value as Tensor);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) collectTensors(v, visit, seen);
}
