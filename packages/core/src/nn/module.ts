// Module and Parameter, as in torch.nn: a module's parameters, buffers and sub-modules are its
// fields, found in field-insertion order and named with PyTorch's dotted paths ('attn.W_q.weight').
import { WedgeError, describeValue, fmtShape } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import { copyInto } from './in_place.ts';

/**
 * A tensor that a Module trains: a leaf with requiresGrad = true that shares `data`'s storage
 * (so `new Parameter(t)` and `t` see the same numbers, as torch.nn.Parameter does).
 * @example this.weight = new Parameter(zeros([out, inp]));
 */
export class Parameter extends Tensor {
  constructor(data: Tensor) {
    super(data.storage, data.shape, data.strides, data.offset);
    this.requiresGrad = true;
  }
}

/** Where a named tensor lives, so loadStateDict can copy into it. */
interface Slot {
  owner: Module;
  field: string;
  kind: 'parameter' | 'buffer';
}

/**
 * Base class of every layer and model. Assign Parameters and sub-Modules to fields; register
 * buffers (tensors saved with the model but not trained, like RoPE's cos/sin tables) with
 * registerBuffer. A field holding an array of Modules acts like nn.ModuleList ('blocks.0.…').
 * @example
 * class Mlp extends Module {
 *   fc1 = new Linear(4, 8); fc2 = new Linear(8, 2);
 *   forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).tanh()); }
 * }
 * new Mlp().namedParameters().map(([n]) => n); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 */
export abstract class Module {
  /**
   * Whether the module is in training mode (train()/eval() set it on the whole tree).
   * @example
   * model.eval(); model.training // false
   */
  training = true;
  /** Buffer field names → persistent (saved in stateDict). A Map keeps registration order. */
  private readonly bufferNames = new Map<string, boolean>();

  /**
   * The module's computation. Subclasses define it; call it directly (there are no hooks).
   * @example
   * class Mlp extends Module { fc = new Linear(4, 2); forward(x: Tensor) { return this.fc.forward(x).relu(); } }
   */
  abstract forward(...args: any[]): Tensor;

  /**
   * Register `t` as buffer `name`: it becomes the field `this[name]` and is saved in stateDict
   * (unless `persistent: false`), but is not a parameter.
   * @example this.registerBuffer('cos', freqs.cos());
   */
  registerBuffer(name: string, t: Tensor, opts: { persistent?: boolean } = {}): void {
    if (name.includes('.') || name === '') {
      throw new WedgeError(`registerBuffer: buffer name must be non-empty and contain no '.', got '${name}'`);
    }
    if (!(t instanceof Tensor) || t instanceof Parameter) {
      throw new WedgeError(`registerBuffer: '${name}' must be a plain Tensor (a Parameter is registered by assigning it)`);
    }
    (this as unknown as Record<string, unknown>)[name] = t;
    this.bufferNames.set(name, opts.persistent ?? true);
  }

  /** This module's own parameters, in field order. */
  private ownParameters(): [string, Parameter][] {
    return Object.entries(this).filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** This module's own buffers (registered names whose field still holds a tensor). */
  private ownBuffers(persistentOnly: boolean): [string, Tensor][] {
    const own: [string, Tensor][] = [];
    for (const [name, persistent] of this.bufferNames) {
      const t = (this as unknown as Record<string, unknown>)[name];
      if (t instanceof Tensor && (persistent || !persistentOnly)) own.push([name, t]);
    }
    return own;
  }

  /**
   * Direct sub-modules, in field order; an array of Modules gives 'name.0', 'name.1', ….
   * @example
   * model.namedChildren().map(([name]) => name) // ['embed', 'attn', 'unembed']
   */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [name, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([name, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module)) {
        v.forEach((m: Module, i) => out.push([`${name}.${i}`, m]));
      }
    }
    return out;
  }
  /** The direct submodules, in field order. @example model.children().length */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * This module and every module below it, depth first ('' names this one), each once.
   * @example
   * for (const [name, m] of model.namedModules()) console.log(name || '(root)', m.constructor.name);
   */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(join(prefix, name), seen));
    return out;
  }
  /**
   * This module and every submodule, depth first.
   * @example
   * model.modules().filter((m) => m instanceof Linear).length
   */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every parameter with its dotted name; a parameter shared by two modules is listed once.
   * @example
   * model.namedParameters().map(([name, p]) => `${name} ${p.shape}`)
   */
  namedParameters(): [string, Parameter][] {
    const seen = new Set<Tensor>();
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([join(prefix, name), p]);
      }
    }
    return out;
  }
  /**
   * Every parameter of the tree, each once (what an optimizer takes).
   * @example
   * new Adam(model.parameters(), { lr: 1e-3 })
   */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /**
   * Non-parameter tensors registered on the tree (e.g. RoPE's cos/sin tables), with dotted names; they are part of
   * the state dict.
   * @example
   * model.namedBuffers().map(([name]) => name) // ['attn.rope.cos', 'attn.rope.sin']
   */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.ownBuffers(false)) out.push([join(prefix, name), b]);
    }
    return out;
  }
  /** The buffers of the tree, without names. @example model.buffers().length */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * Set training mode here and below (affects layers such as dropout).
   * @example
   * model.train(); // back to training after model.eval()
   */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  /**
   * Evaluation mode for the whole tree (train(false)); returns this.
   * @example
   * const logits = noGrad(() => model.eval().forward(x));
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Drop every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
   * @example
   * model.zeroGrad(); loss.backward();
   */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Every named slot (parameters then persistent buffers, module by module), PyTorch's state_dict order. */
  private slots(): [string, Slot][] {
    const out: [string, Slot][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name] of m.ownParameters()) out.push([join(prefix, name), { owner: m, field: name, kind: 'parameter' }]);
      for (const [name] of m.ownBuffers(true)) out.push([join(prefix, name), { owner: m, field: name, kind: 'buffer' }]);
    }
    return out;
  }

  /**
   * Parameters then persistent buffers, module by module, under PyTorch's names and in its order.
   * The values are detached tensors that share the module's storage (as in PyTorch).
   * @example saveSafetensors('model.safetensors', model.stateDict());
   */
  stateDict(): Record<string, Tensor> {
    const entries = this.slots().map(([name, s]): [string, Tensor] => [name, slotTensor(s).detach()]);
    return Object.fromEntries(entries);
  }

  /**
   * Copy values from `dict` into this module's parameters and buffers, in place (optimizers
   * holding the parameters stay valid). Everything is checked before anything is copied: a shape
   * or dtype mismatch is always an error, and with `strict` (the default) so are missing and
   * unexpected keys; the error lists every problem and the module is left unchanged.
   * @example model.loadStateDict(loadSafetensors('model.safetensors').tensors);
   */
  loadStateDict(dict: Record<string, Tensor>, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    if (typeof dict !== 'object' || dict === null || Array.isArray(dict) || dict instanceof Tensor) {
      throw new WedgeError(
        `loadStateDict: expected an object of named tensors (such as loadSafetensors(path).tensors), got ${describeValue(dict)}`,
      );
    }
    const strict = opts.strict ?? true;
    const slots = this.slots();
    const known = new Set(slots.map(([n]) => n));
    const missing = slots.map(([n]) => n).filter((n) => !Object.hasOwn(dict, n));
    const unexpected = Object.keys(dict).filter((n) => !known.has(n));
    const mismatches: string[] = [];
    for (const [name, slot] of slots) {
      if (!Object.hasOwn(dict, name)) continue;
      const src = dict[name];
      const dst = slotTensor(slot);
      if (!(src instanceof Tensor)) {
        mismatches.push(`'${name}': expected a Tensor, got ${describeValue(src)}`);
        continue;
      }
      if (src.shape.length !== dst.shape.length || src.shape.some((d, i) => d !== dst.shape[i])) {
        mismatches.push(`size mismatch for '${name}': checkpoint ${fmtShape(src.shape)}, model ${fmtShape(dst.shape)}`);
      }
      if (src.dtype !== dst.dtype) mismatches.push(`dtype mismatch for '${name}': checkpoint ${src.dtype}, model ${dst.dtype}`);
    }
    const quoted = (keys: string[]) => keys.map((k) => `'${k}'`).join(', ');
    const problems = [
      ...(strict && missing.length > 0 ? [`missing keys: ${quoted(missing)}`] : []),
      ...(strict && unexpected.length > 0 ? [`unexpected keys: ${quoted(unexpected)}`] : []),
      ...mismatches,
    ];
    if (problems.length > 0) {
      throw new WedgeError(
        `loadStateDict: ${problems.length} problem${problems.length > 1 ? 's' : ''} loading into ${this.constructor.name} ` +
          `(nothing was loaded):\n  ${problems.join('\n  ')}`,
      );
    }
    for (const [name, slot] of slots) {
      if (Object.hasOwn(dict, name)) copyInto(slotTensor(slot), dict[name], `loadStateDict: '${name}'`);
    }
    return { missing, unexpected };
  }
}

const join = (prefix: string, name: string): string => (prefix === '' ? name : `${prefix}.${name}`);

function slotTensor(s: Slot): Tensor {
  return (s.owner as unknown as Record<string, Tensor>)[s.field];
}
