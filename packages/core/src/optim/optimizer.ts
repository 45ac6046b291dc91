// The optimizer base: parameter groups, per-parameter state, zeroGrad, and a state dict shaped
// like torch.optim's ({state: {index: {...}}, paramGroups: [{...hyperparameters, params: [index]}]}).
import { type TypedArray, allocate, isFloat } from '../dtype.ts';
import { WedgeError, describeValue, fmtShape } from '../errors.ts';
import { sameShape } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { storageView } from '../nn/in_place.ts';

/**
 * A group of parameters with its own hyperparameters (any option left out takes the optimizer's default).
 * @example
 * new Adam([{ params: model.embed.parameters(), lr: 1e-2 }, { params: model.unembed.parameters() }], { lr: 1e-3 })
 */
export type ParamGroup<O> = Partial<O> & { params: Iterable<Tensor> };

/** A resolved group: every hyperparameter set. */
export type Group<O> = O & { params: Tensor[] };

/** Per-parameter state: the step count and named float buffers (PyTorch's names: exp_avg, momentum_buffer, …). */
export interface ParamState {
  /**
   * Update every parameter from its `.grad` (parameters without one are skipped).
   * @example
   * loss.backward(); opt.step();
   */
  step: number;
  buffers: Record<string, TypedArray>;
}

/**
 * An optimizer's state as PyTorch's optimizer.state_dict(): per-parameter state by index, and the param groups'
 * hyperparameters.
 * @example
 * const s = opt.stateDict(); opt2.loadStateDict(s);
 */
export interface OptimizerStateDict {
  /** Keyed by the parameter's position across all groups, as in torch.optim. */
  state: Record<number, Record<string, Tensor | number>>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/** A parameter's numbers, its gradient and its state, ready for an update loop. */
export interface UpdateView {
  param: Tensor;
  /** Storage array of the parameter, and where element i lives in it. */
  data: TypedArray;
  at: (i: number) => number;
  grad: TypedArray;
  state: ParamState;
  /** Math.fround for float32 parameters (PyTorch rounds every float32 op), identity for float64. */
  round: (x: number) => number;
}

const identity = (x: number): number => x;

/**
 * The base of SGD, Adam and AdamW: parameter groups with their hyperparameters, per-parameter state, zeroGrad(),
 * step(), and state dicts like PyTorch's.
 * @example
 * const opt: Optimizer<AdamOptions> = new Adam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export abstract class Optimizer<O extends object> {
  /**
   * The parameter groups: their tensors and hyperparameters (change `lr` here to schedule it).
   * @example
   * for (const g of opt.paramGroups) g.lr *= 0.5;
   */
  readonly paramGroups: Group<O>[] = [];
  /**
   * Per-parameter state (Adam's step count and moments), keyed by the parameter tensor.
   * @example
   * opt.state.get(model.embed.weight)
   */
  readonly state = new Map<Tensor, ParamState>();

  /**
   * An optimizer called `name` over `params` (tensors, or ParamGroups) with `defaults` for every group. Subclasses
   * call it.
   * @example
   * class Plain extends Optimizer<{ lr: number }> { constructor(p: Tensor[]) { super('Plain', p, { lr: 0.1 }); } step() {} }
   */
  constructor(
    /** The optimizer's name, used in messages and state dicts. @example new Adam(params).name // 'Adam' */
    readonly name: string,
    params: Iterable<Tensor> | ParamGroup<O>[],
    /**
     * The hyperparameters a group gets where it does not set its own.
     * @example
     * new Adam(params, { lr: 1e-2 }).defaults.lr // 0.01
     */
    readonly defaults: O,
  ) {
    const list = [...(params as Iterable<Tensor | ParamGroup<O>>)];
    if (list.length === 0) throw new WedgeError(`${name}: got an empty parameter list`);
    const groups: ParamGroup<O>[] = list.every((p) => p instanceof Tensor)
      ? [{ params: list as Tensor[] } as unknown as ParamGroup<O>]
      : (list as ParamGroup<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /**
   * Add a group (e.g. newly unfrozen layers) with its own hyperparameters.
   * @example
   * opt.addParamGroup({ params: head.parameters(), lr: 1e-2 })
   */
  addParamGroup(group: ParamGroup<O>): void {
    if (group instanceof Tensor || typeof group !== 'object' || group === null || !('params' in group)) {
      throw new WedgeError(`${this.name}: params must be tensors or groups {params, ...options}, not a mix`);
    }
    const params = [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new WedgeError(`${this.name}: group entry ${i} is not a Tensor`);
      if (!p.isLeaf || !p.requiresGrad || !isFloat(p.dtype)) {
        throw new WedgeError(
          `${this.name}: can only optimize floating-point leaf tensors that require grad; entry ${i} is ` +
            `${p.dtype} ${fmtShape(p.shape)}${p.isLeaf ? '' : ` made by ${p.gradFn}`}${p.requiresGrad ? '' : ' without requiresGrad'}`,
        );
      }
      if (seen.has(p)) throw new WedgeError(`${this.name}: a parameter ${fmtShape(p.shape)} appears in more than one group`);
      seen.add(p);
    });
    const { params: _ignored, ...overrides } = group as ParamGroup<O> & Record<string, unknown>;
    const resolved = { ...this.defaults, ...overrides, params } as Group<O>;
    this.validate(resolved);
    this.paramGroups.push(resolved);
  }

  /** Check a group's hyperparameters (PyTorch's "Invalid learning rate" checks). */
  protected abstract validate(group: Group<O>): void;

  /** One update of every parameter that has a gradient. @example loss.backward(); opt.step(); */
  abstract step(): void;

  /**
   * Drop every parameter's gradient (set_to_none, PyTorch 2's default).
   * @example
   * opt.zeroGrad(); loss.backward(); opt.step();
   */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** The parameters of `group` that have a gradient, with their data, gradient and state. */
  protected *withGrads(group: Group<O>): Generator<UpdateView> {
    for (const p of group.params) {
      if (p.grad === null) continue;
      if (!(p.grad instanceof Tensor)) {
        throw new WedgeError(`${this.name}.step: the gradient of a parameter ${fmtShape(p.shape)} is ${describeValue(p.grad)}, not a Tensor`);
      }
      const { data, base, offsets } = storageView(p, `${this.name}.step`);
      if (p.grad.disposed) {
        throw new WedgeError(
          `${this.name}.step: the gradient of a parameter ${fmtShape(p.shape)} was disposed ` +
            `(was backward() inside a tidy() that ended before step()? run both in the same scope)`,
        );
      }
      if (!sameShape(p.grad.shape, p.shape)) {
        throw new WedgeError(`${this.name}.step: gradient ${fmtShape(p.grad.shape)} does not match parameter ${fmtShape(p.shape)}`);
      }
      const grad = p.grad.data();
      let state = this.state.get(p);
      if (state === undefined) {
        state = { step: 0, buffers: {} };
        this.state.set(p, state);
      }
      const at = offsets === null ? (i: number) => base + i : (i: number) => offsets[i];
      yield { param: p, data, at, grad, state, round: p.dtype === 'float32' ? Math.fround : identity };
    }
  }

  /** A zeroed state buffer shaped like `p`. */
  protected static zerosFor(p: Tensor): TypedArray {
    return allocate(p.dtype, p.size);
  }

  /**
   * Hyperparameters and per-parameter state (copies), to resume a run with loadStateDict.
   * @example const saved = opt.stateDict(); …; opt.loadStateDict(saved);
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map(({ params, ...hyper }) => ({
      ...structuredClone(hyper),
      params: params.map((p) => {
        index.set(p, index.size);
        return index.size - 1;
      }),
    }));
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const entry: Record<string, Tensor | number> = { step: s.step };
      for (const [k, buf] of Object.entries(s.buffers)) entry[k] = Tensor.fromArray(buf.slice(), p.shape, p.dtype);
      state[index.get(p)!] = entry;
    }
    return { state, paramGroups };
  }

  /**
   * Restore hyperparameters and state saved by stateDict (the groups must hold the same parameter shapes).
   * @example
   * opt.loadStateDict(optimizerStateFromTensors(f.tensors, f.metadata))
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const who = `${this.name}.loadStateDict`;
    checkStateDict(who, dict);
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new WedgeError(`${who}: the saved state has ${dict.paramGroups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    dict.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i].params.length) {
        throw new WedgeError(`${who}: group ${i} has ${g.params.length} parameters saved, ${this.paramGroups[i].params.length} here`);
      }
    });
    const ids = dict.paramGroups.flatMap((g) => g.params);
    const restored = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(dict.state)) {
      const pos = ids.indexOf(Number(key));
      if (pos < 0) throw new WedgeError(`${who}: state for parameter ${key}, which no saved group lists`);
      const p = params[pos];
      const { step, ...rest } = entry;
      if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
        throw new WedgeError(`${who}: parameter ${key} has step ${String(step)}, expected a non-negative integer`);
      }
      const buffers: Record<string, TypedArray> = {};
      for (const [name, t] of Object.entries(rest)) {
        if (!(t instanceof Tensor) || t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) {
          throw new WedgeError(
            `${who}: state '${name}' of parameter ${key} is ${t instanceof Tensor ? fmtShape(t.shape) : typeof t}, the parameter ${fmtShape(p.shape)}`,
          );
        }
        buffers[name] = t.to(p.dtype).data().slice();
      }
      restored.set(p, { step, buffers });
    }
    this.paramGroups.forEach((g, i) => {
      const { params: _ids, ...hyper } = dict.paramGroups[i];
      const merged = { ...g, ...structuredClone(hyper), params: g.params } as Group<O>;
      this.validate(merged);
      this.paramGroups[i] = merged;
    });
    this.state.clear();
    for (const [p, s] of restored) this.state.set(p, s);
  }
}

/** The structure of a state dict, checked before anything is read from it (a damaged checkpoint). */
function checkStateDict(who: string, dict: unknown): asserts dict is OptimizerStateDict {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(dict)) throw new WedgeError(`${who}: expected a state dict {state, paramGroups}, got ${describeValue(dict)}`);
  const { state, paramGroups } = dict;
  if (!Array.isArray(paramGroups)) throw new WedgeError(`${who}: paramGroups must be an array, got ${describeValue(paramGroups)}`);
  paramGroups.forEach((g, i) => {
    if (!isObject(g) || !Array.isArray(g.params) || !g.params.every((p) => Number.isSafeInteger(p) && (p as number) >= 0)) {
      throw new WedgeError(`${who}: paramGroups[${i}] must be an object whose params is an array of parameter indices`);
    }
  });
  if (!isObject(state)) throw new WedgeError(`${who}: state must be an object keyed by parameter index, got ${describeValue(state)}`);
  for (const [key, entry] of Object.entries(state)) {
    if (!isObject(entry)) throw new WedgeError(`${who}: state for parameter ${key} must be an object, got ${describeValue(entry)}`);
  }
}

// ---- PyTorch's float32 CPU arithmetic, op by op ---------------------------------------------
// Each helper rounds where PyTorch's kernel rounds (`r` is Math.fround for float32, identity for
// float64); scalars such as lr or beta are rounded to the tensor's dtype first, as the kernels do.
// NOTE: an AVX2 build of PyTorch computes add(a, b, alpha) and addcmul's last step as fused
// multiply-adds (one rounding). For float32 operands the double product is exact, so r(c + x·y)
// in double is that fused result (bar a double-rounding tie, vanishingly rare).

/** a + alpha·b (torch.add with alpha; fused). */
export const addScaled = (r: (x: number) => number, a: number, alpha: number, b: number): number => r(a + alpha * b);

/** self + value·t1·t2 (torch.addcmul: (value·t1) rounded, then fused with t2 and self). */
export const addcmul = (r: (x: number) => number, self: number, value: number, t1: number, t2: number): number =>
  r(self + r(value * t1) * t2);

/** self + value·t1/t2 (torch.addcdiv: each step rounded; a division cannot fuse). */
export const addcdiv = (r: (x: number) => number, self: number, value: number, t1: number, t2: number): number =>
  r(self + r(r(value * t1) / t2));

// ---- optimizer state in a checkpoint ----------------------------------------------------------

/**
 * An optimizer state dict as flat tensors plus string metadata, ready for saveSafetensors:
 * tensors `state.<i>.<name>` (exp_avg, momentum_buffer, …) and metadata `optimizer` holding the
 * groups' hyperparameters and each parameter's step as JSON.
 * @example const { tensors, metadata } = optimizerStateToTensors(opt.stateDict());
 *          saveSafetensors('run/optim.safetensors', tensors, metadata);
 */
export function optimizerStateToTensors(sd: OptimizerStateDict): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const tensors: Record<string, Tensor> = {};
  const scalars: Record<string, Record<string, number>> = {};
  for (const [i, entry] of Object.entries(sd.state)) {
    for (const [name, v] of Object.entries(entry)) {
      if (v instanceof Tensor) tensors[`state.${i}.${name}`] = v;
      else (scalars[i] ??= {})[name] = v;
    }
  }
  return { tensors, metadata: { optimizer: JSON.stringify({ paramGroups: sd.paramGroups, scalars }) } };
}

/**
 * The inverse of optimizerStateToTensors.
 * @example const f = loadSafetensors('run/optim.safetensors'); opt.loadStateDict(optimizerStateFromTensors(f.tensors, f.metadata));
 */
export function optimizerStateFromTensors(tensors: Record<string, Tensor>, metadata: Record<string, string>): OptimizerStateDict {
  const who = 'optimizerStateFromTensors';
  if (typeof tensors !== 'object' || tensors === null) {
    throw new WedgeError(`${who}: tensors must be an object of named tensors, got ${describeValue(tensors)}`);
  }
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.optimizer !== 'string') {
    throw new WedgeError(`${who}: no 'optimizer' metadata entry (was this saved with optimizerStateToTensors?)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata.optimizer);
  } catch (e) {
    throw new WedgeError(`${who}: the 'optimizer' metadata is not valid JSON (${(e as Error).message}); the checkpoint is damaged`);
  }
  const { paramGroups, scalars } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    paramGroups: unknown;
    scalars: unknown;
  };
  if (typeof scalars !== 'object' || scalars === null || Array.isArray(scalars)) {
    throw new WedgeError(`${who}: the 'optimizer' metadata has no scalars object (got ${describeValue(scalars)}); the checkpoint is damaged`);
  }
  const state: OptimizerStateDict['state'] = {};
  for (const [i, entry] of Object.entries(scalars)) {
    if (!/^\d+$/.test(i) || typeof entry !== 'object' || entry === null || Object.values(entry).some((v) => typeof v !== 'number')) {
      throw new WedgeError(`${who}: the scalars of parameter ${JSON.stringify(i)} must be an object of numbers; the checkpoint is damaged`);
    }
    state[Number(i)] = { ...(entry as Record<string, number>) };
  }
  checkStateDict(who, { state, paramGroups });
  for (const [key, t] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.(.+)$/.exec(key);
    if (!m) continue;
    (state[Number(m[1])] ??= {})[m[2]] = t;
  }
  return { state, paramGroups: paramGroups as OptimizerStateDict['paramGroups'] };
}
