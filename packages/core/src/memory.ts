// Ownership of tensor memory: tidy() frees what a function made and did not return.
// On the CPU this only drops references; on the GPU it releases textures.
import { WedgeError } from './errors.ts';
import type { Storage } from './storage.ts';
// NOTE: tensor.ts imports this file too; Tensor is only used inside functions, after both load.
import { Tensor } from './tensor.ts';

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

/**
 * Remove `t` from every open scope so that tidy() leaves it alone (tfjs's keep).
 * @example
 * let cache: Tensor; tidy(() => { cache = keep(x.exp()); return x.sum(); });
 */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) {
    const i = scope.indexOf(t);
    if (i >= 0) scope.splice(i, 1);
  }
  storageOwner.set(t.storage, null); // views of a kept tensor must not free it either
  return t;
}

/**
 * What tidy() accepts: a function that returns its result synchronously. An async function's
 * Promise meets this string instead, which the compiler shows in its error.
 */
type Synchronous<T> = T extends PromiseLike<unknown> ? 'tidy() needs a synchronous function: await first, then tidy() each step' : T;

/**
 * Run `fn`, then dispose every tensor it created except those it returns (in an array or object
 * too), those kept with keep(), and those the returned tensors' graphs still need for backward().
 * Storage shared with a survivor (a view) is never freed. `fn` must be synchronous: tensors made
 * after an `await` would escape the scope, so an async function is a type error and, at run time,
 * a WedgeError.
 * @example const loss = tidy(() => model.forward(x).logSoftmax(-1).mean());
 */
export function tidy<T>(fn: () => Synchronous<T>): T {
  if (typeof fn !== 'function') throw new WedgeError(`tidy: expected a function, got ${typeof fn}`);
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn() as T;
  } finally {
    scopes.pop();
  }
  if (isThenable(result)) {
    // nothing is freed: the async function may still be using what it made
    (result as PromiseLike<unknown>).then(undefined, () => {}); // its own failure is not this error's
    throw new WedgeError(
      'tidy: fn returned a Promise; tidy() only tracks synchronous work (tensors made after an await would escape it). ' +
        'Await first, then tidy() each synchronous step',
    );
  }
  // NOTE: iterative, like backward(): a graph 100,000 ops deep must not overflow the JS stack
  const survivors = new Set<Tensor>();
  const pending: Tensor[] = [];
  collectTensors(result, pending);
  while (pending.length > 0) {
    const t = pending.pop()!;
    if (survivors.has(t)) continue;
    survivors.add(t);
    if (t.grad) pending.push(t.grad);
    if (t.node && !t.node.freed) for (const x of t.node.inputs) pending.push(x);
  }
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

const isThenable = (v: unknown): boolean =>
  (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';

/** Every Tensor in `value` (itself, or inside arrays and plain objects, at any depth), iteratively. */
function collectTensors(value: unknown, out: Tensor[]): void {
  const seen = new Set<unknown>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Tensor) out.push(v);
    else for (const w of Array.isArray(v) ? v : Object.values(v)) stack.push(w);
  }
}
