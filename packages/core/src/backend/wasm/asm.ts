// A small WebAssembly binary encoder. Kernels are written as typed expression trees: every
// instruction checks its operands' types when it is built, so a malformed kernel fails at emit time
// with the instruction's name and the types it got, never as a wrong number later. Each expression
// carries its bytes and its text (folded WAT), so a whole module can be printed for reading
// (WEDGE_DUMP_KERNELS=1). Only what the kernels use: i32/f32/f64 scalars, simd128 (no relaxed SIMD),
// one imported memory, structured loops.
import { WedgeError } from '../../errors.ts';

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
const TYPE_CODE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/**
 * A value-producing instruction tree: its type, its bytes, its text.
 * @example
 * const e = f64.add(f64.const(1), f64.const(2)); e.type // 'f64'
 */
export class Expr {
  constructor(readonly type: ValType, readonly bytes: number[], readonly text: string) {}
}

/** A local variable (parameters first, as in wasm). */
export class Local {
  constructor(readonly index: number, readonly type: ValType, readonly name: string) {}
}

// ---- LEB128 and immediates ----------------------------------------------------------------------

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Signed LEB128 of a 64-bit value (i64.const). */
function slebBig(n: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

function check(op: string, args: readonly Expr[], want: readonly ValType[]): void {
  if (args.length !== want.length || args.some((a, i) => a.type !== want[i])) {
    throw new WedgeError(`wasm emit: ${op} needs (${want.join(', ')}), got (${args.map((a) => a.type).join(', ')})`);
  }
}

/** An instruction with fixed operand types: opcode bytes after the operands' bytes. */
function instr(op: string, opcode: number[], want: readonly ValType[], result: ValType) {
  return (...args: Expr[]): Expr => {
    check(op, args, want);
    return new Expr(result, [...args.flatMap((a) => a.bytes), ...opcode], `(${op} ${args.map((a) => a.text).join(' ')})`);
  };
}

const simd = (code: number): number[] => [0xfd, ...uleb(code)];

// ---- scalar and vector instructions -------------------------------------------------------------

const bin = (t: ValType, op: string, code: number) => instr(`${t}.${op}`, [code], [t, t], t);
const cmp = (t: ValType, op: string, code: number) => instr(`${t}.${op}`, [code], [t, t], 'i32');
const un = (t: ValType, op: string, code: number) => instr(`${t}.${op}`, [code], [t], t);
const vbin = (t: string, op: string, code: number) => instr(`${t}.${op}`, simd(code), ['v128', 'v128'], 'v128');
const vun = (t: string, op: string, code: number) => instr(`${t}.${op}`, simd(code), ['v128'], 'v128');

export const i32 = {
  const: (v: number): Expr => new Expr('i32', [0x41, ...sleb(v | 0)], `(i32.const ${v | 0})`),
  add: bin('i32', 'add', 0x6a), sub: bin('i32', 'sub', 0x6b), mul: bin('i32', 'mul', 0x6c),
  divS: bin('i32', 'div_s', 0x6d), remS: bin('i32', 'rem_s', 0x6f),
  and: bin('i32', 'and', 0x71), or: bin('i32', 'or', 0x72), shl: bin('i32', 'shl', 0x74), shrS: bin('i32', 'shr_s', 0x75),
  shrU: bin('i32', 'shr_u', 0x76), divU: bin('i32', 'div_u', 0x6e), remU: bin('i32', 'rem_u', 0x70),
  wrapI64: instr('i32.wrap_i64', [0xa7], ['i64'], 'i32'),
  /** f64 → i32, saturating (NaN → 0): never traps. */
  truncSatF64: instr('i32.trunc_sat_f64_s', [0xfc, 0x02], ['f64'], 'i32'),
  eqz: instr('i32.eqz', [0x45], ['i32'], 'i32'),
  eq: cmp('i32', 'eq', 0x46), ne: cmp('i32', 'ne', 0x47), ltS: cmp('i32', 'lt_s', 0x48), gtS: cmp('i32', 'gt_s', 0x4a),
  leS: cmp('i32', 'le_s', 0x4c), geS: cmp('i32', 'ge_s', 0x4e), ltU: cmp('i32', 'lt_u', 0x49),
  load: (addr: Expr, offset = 0): Expr => load('i32.load', 0x28, 2, 'i32', addr, offset),
  /** One byte, zero-extended (bool storage). */
  load8u: (addr: Expr, offset = 0): Expr => load('i32.load8_u', 0x2d, 0, 'i32', addr, offset),
};

export const i64 = {
  extendI32: instr('i64.extend_i32_s', [0xac], ['i32'], 'i64'),
  shl: bin('i64', 'shl', 0x86), shrU: bin('i64', 'shr_u', 0x88), and: bin('i64', 'and', 0x83), or: bin('i64', 'or', 0x84),
  const: (v: bigint): Expr => new Expr('i64', [0x42, ...slebBig(v)], `(i64.const ${v})`),
  reinterpretF64: instr('i64.reinterpret_f64', [0xbd], ['f64'], 'i64'),
};

export const f32 = {
  const: (v: number): Expr => {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return new Expr('f32', [0x43, ...b], `(f32.const ${v})`);
  },
  add: bin('f32', 'add', 0x92), sub: bin('f32', 'sub', 0x93), mul: bin('f32', 'mul', 0x94), div: bin('f32', 'div', 0x95),
  min: bin('f32', 'min', 0x96), max: bin('f32', 'max', 0x97),
  abs: un('f32', 'abs', 0x8b), neg: un('f32', 'neg', 0x8c), sqrt: un('f32', 'sqrt', 0x91),
  eq: cmp('f32', 'eq', 0x5b), ne: cmp('f32', 'ne', 0x5c), gt: cmp('f32', 'gt', 0x5e),
  lt: cmp('f32', 'lt', 0x5d), le: cmp('f32', 'le', 0x5f), ge: cmp('f32', 'ge', 0x60),
  demote: instr('f32.demote_f64', [0xb6], ['f64'], 'f32'),
  load: (addr: Expr, offset = 0): Expr => load('f32.load', 0x2a, 2, 'f32', addr, offset),
};

export const f64 = {
  const: (v: number): Expr => {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return new Expr('f64', [0x44, ...b], `(f64.const ${v})`);
  },
  add: bin('f64', 'add', 0xa0), sub: bin('f64', 'sub', 0xa1), mul: bin('f64', 'mul', 0xa2), div: bin('f64', 'div', 0xa3),
  min: bin('f64', 'min', 0xa4), max: bin('f64', 'max', 0xa5),
  abs: un('f64', 'abs', 0x99), neg: un('f64', 'neg', 0x9a), sqrt: un('f64', 'sqrt', 0x9f),
  eq: cmp('f64', 'eq', 0x61), ne: cmp('f64', 'ne', 0x62), lt: cmp('f64', 'lt', 0x63), gt: cmp('f64', 'gt', 0x64),
  le: cmp('f64', 'le', 0x65), ge: cmp('f64', 'ge', 0x66),
  nearest: un('f64', 'nearest', 0x9e),
  convertI32S: instr('f64.convert_i32_s', [0xb7], ['i32'], 'f64'),
  reinterpretI64: instr('f64.reinterpret_i64', [0xbf], ['i64'], 'f64'),
  promote: instr('f64.promote_f32', [0xbb], ['f32'], 'f64'),
  load: (addr: Expr, offset = 0): Expr => load('f64.load', 0x2b, 3, 'f64', addr, offset),
};

/** The lanes of one float type, so that one emitter serves float32 (f32x4) and float64 (f64x2). */
export interface Lanes {
  readonly scalar: typeof f32 | typeof f64;
  readonly scalarType: 'f32' | 'f64';
  /** Bytes per element and log2 of it. */
  readonly bytes: number;
  readonly shift: number;
  /** Elements per v128. */
  readonly lanes: number;
  readonly add: (a: Expr, b: Expr) => Expr;
  readonly sub: (a: Expr, b: Expr) => Expr;
  readonly mul: (a: Expr, b: Expr) => Expr;
  readonly div: (a: Expr, b: Expr) => Expr;
  readonly min: (a: Expr, b: Expr) => Expr;
  readonly max: (a: Expr, b: Expr) => Expr;
  readonly gt: (a: Expr, b: Expr) => Expr;
  readonly ne: (a: Expr, b: Expr) => Expr;
  readonly abs: (a: Expr) => Expr;
  readonly neg: (a: Expr) => Expr;
  readonly sqrt: (a: Expr) => Expr;
  readonly splat: (a: Expr) => Expr;
  /** Broadcast one element loaded from memory to every lane. */
  readonly loadSplat: (addr: Expr, offset?: number) => Expr;
}

export const f32x4: Lanes = {
  scalar: f32, scalarType: 'f32', bytes: 4, shift: 2, lanes: 4,
  add: vbin('f32x4', 'add', 0xe4), sub: vbin('f32x4', 'sub', 0xe5), mul: vbin('f32x4', 'mul', 0xe6), div: vbin('f32x4', 'div', 0xe7),
  min: vbin('f32x4', 'min', 0xe8), max: vbin('f32x4', 'max', 0xe9),
  gt: vbin('f32x4', 'gt', 0x44), ne: vbin('f32x4', 'ne', 0x42),
  abs: vun('f32x4', 'abs', 0xe0), neg: vun('f32x4', 'neg', 0xe1), sqrt: vun('f32x4', 'sqrt', 0xe3),
  splat: instr('f32x4.splat', simd(0x13), ['f32'], 'v128'),
  loadSplat: (addr, offset = 0) => load('v128.load32_splat', simd(0x09), 2, 'v128', addr, offset),
};

export const f64x2: Lanes = {
  scalar: f64, scalarType: 'f64', bytes: 8, shift: 3, lanes: 2,
  add: vbin('f64x2', 'add', 0xf0), sub: vbin('f64x2', 'sub', 0xf1), mul: vbin('f64x2', 'mul', 0xf2), div: vbin('f64x2', 'div', 0xf3),
  min: vbin('f64x2', 'min', 0xf4), max: vbin('f64x2', 'max', 0xf5),
  gt: vbin('f64x2', 'gt', 0x4a), ne: vbin('f64x2', 'ne', 0x48),
  abs: vun('f64x2', 'abs', 0xec), neg: vun('f64x2', 'neg', 0xed), sqrt: vun('f64x2', 'sqrt', 0xef),
  splat: instr('f64x2.splat', simd(0x14), ['f64'], 'v128'),
  loadSplat: (addr, offset = 0) => load('v128.load64_splat', simd(0x0a), 3, 'v128', addr, offset),
};

export const v128 = {
  load: (addr: Expr, offset = 0): Expr => load('v128.load', simd(0x00), 0, 'v128', addr, offset),
  /** bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere. */
  bitselect: instr('v128.bitselect', simd(0x52), ['v128', 'v128', 'v128'], 'v128'),
  or: instr('v128.or', simd(0x50), ['v128', 'v128'], 'v128'),
  zero: (): Expr => new Expr('v128', [...simd(0x0c), ...new Array(16).fill(0)], '(v128.const 0)'),
};

/** select(a, b, cond): a when cond ≠ 0, else b (both evaluated). */
export function select(a: Expr, b: Expr, cond: Expr): Expr {
  if (a.type !== b.type || cond.type !== 'i32') throw new WedgeError(`wasm emit: select needs (T, T, i32), got (${a.type}, ${b.type}, ${cond.type})`);
  return new Expr(a.type, [...a.bytes, ...b.bytes, ...cond.bytes, 0x1b], `(select ${a.text} ${b.text} ${cond.text})`);
}

function load(op: string, opcode: number | number[], align: number, type: ValType, addr: Expr, offset: number): Expr {
  check(op, [addr], ['i32']);
  const code = typeof opcode === 'number' ? [opcode] : opcode;
  return new Expr(type, [...addr.bytes, ...code, ...uleb(align), ...uleb(offset)], `(${op}${offset ? ` offset=${offset}` : ''} ${addr.text})`);
}

const STORE: Record<Exclude<ValType, 'i64'>, { op: string; code: number[]; align: number }> = {
  i32: { op: 'i32.store', code: [0x36], align: 2 },
  f32: { op: 'f32.store', code: [0x38], align: 2 },
  f64: { op: 'f64.store', code: [0x39], align: 3 },
  v128: { op: 'v128.store', code: simd(0x0b), align: 0 },
};

// ---- functions ----------------------------------------------------------------------------------

/**
 * One function being written: statements append to its body; control flow is structured (for,
 * if), so branch depths are computed here rather than by hand.
 */
export class Fn {
  readonly locals: Local[] = [];
  readonly params: Local[];
  private readonly code: number[] = [];
  private readonly lines: string[] = [];
  private depth = 1;

  constructor(
    readonly name: string,
    params: readonly [string, ValType][],
    readonly comment: string,
  ) {
    this.params = params.map(([n, t], i) => new Local(i, t, n));
  }

  private emit(bytes: number[], text: string): void {
    this.code.push(...bytes);
    this.lines.push('  '.repeat(this.depth) + text);
  }

  /** A fresh local of `type`. */
  local(type: ValType, label = `l${this.locals.length}`): Local {
    const l = new Local(this.params.length + this.locals.length, type, label);
    this.locals.push(l);
    return l;
  }
  get(l: Local): Expr {
    return new Expr(l.type, [0x20, ...uleb(l.index)], `$${l.name}`);
  }
  set(l: Local, value: Expr): void {
    if (value.type !== l.type) throw new WedgeError(`wasm emit: local.set $${l.name} (${l.type}) got ${value.type}`);
    this.emit([...value.bytes, 0x21, ...uleb(l.index)], `(local.set $${l.name} ${value.text})`);
  }
  /** l = init; a new local of init's type. */
  let(label: string, init: Expr): Local {
    const l = this.local(init.type, label);
    this.set(l, init);
    return l;
  }
  /** One byte: the low 8 bits of an i32 (bool storage). */
  store8(addr: Expr, value: Expr): void {
    check('i32.store8', [addr, value], ['i32', 'i32']);
    this.emit([...addr.bytes, ...value.bytes, 0x3a, 0, 0], `(i32.store8 ${addr.text} ${value.text})`);
  }
  store(type: Exclude<ValType, 'i64'>, addr: Expr, value: Expr, offset = 0): void {
    const s = STORE[type];
    check(s.op, [addr, value], ['i32', type]);
    this.emit([...addr.bytes, ...value.bytes, ...s.code, ...uleb(s.align), ...uleb(offset)], `(${s.op}${offset ? ` offset=${offset}` : ''} ${addr.text} ${value.text})`);
  }

  /** for (i = from; i < to; i += step) body — `to` is re-evaluated each iteration. */
  for(i: Local, from: Expr, to: () => Expr, step: number | Local, body: () => void): void {
    this.set(i, from);
    this.emit([0x02, 0x40, 0x03, 0x40], `(block (loop ;; for $${i.name} < ${to().text}`);
    this.depth++;
    const done = i32.geS(this.get(i), to());
    this.emit([...done.bytes, 0x0d, 1], `(br_if 1 ${done.text})`);
    body();
    this.set(i, i32.add(this.get(i), typeof step === 'number' ? i32.const(step) : this.get(step)));
    this.emit([0x0c, 0], '(br 0)');
    this.depth--;
    this.emit([0x0b, 0x0b], '))');
  }

  if(cond: Expr, then: () => void, otherwise?: () => void): void {
    check('if', [cond], ['i32']);
    this.emit([...cond.bytes, 0x04, 0x40], `(if ${cond.text} (then`);
    this.depth++;
    then();
    this.depth--;
    if (otherwise) {
      this.emit([0x05], ') (else');
      this.depth++;
      otherwise();
      this.depth--;
    }
    this.emit([0x0b], '))');
  }

  /** The function's code-section entry. */
  encode(): number[] {
    const decl = this.locals.flatMap((l) => [1, TYPE_CODE[l.type]]);
    const body = [...uleb(this.locals.length), ...decl, ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
  text(): string {
    const sig = this.params.map((p) => `(param $${p.name} ${p.type})`).join(' ');
    return `;; ${this.comment}\n(func $${this.name} ${sig}\n${this.lines.join('\n')})`;
  }
}

/** A module of exported functions (no results; kernels write memory) over one imported memory. */
export class ModuleBuilder {
  readonly fns: Fn[] = [];

  constructor(readonly memory: { shared: boolean; maxPages: number }) {}

  /** Add exported function `name` with i32 parameters, written by `body`. `comment` says what it computes. */
  fn(name: string, comment: string, params: readonly string[], body: (f: Fn, ...p: Local[]) => void): void {
    if (this.fns.some((f) => f.name === name)) throw new WedgeError(`wasm emit: function ${name} defined twice`);
    const f = new Fn(name, params.map((p) => [p, 'i32'] as [string, ValType]), comment);
    body(f, ...f.params);
    this.fns.push(f);
  }

  encode(): Uint8Array<ArrayBuffer> {
    // one type per function: (i32 × n) → ()
    const types = this.fns.flatMap((f) => [0x60, ...uleb(f.params.length), ...f.params.map(() => 0x7f), 0]);
    const limits = this.memory.shared ? [0x03, ...uleb(1), ...uleb(this.memory.maxPages)] : [0x00, ...uleb(1)];
    const imports = [1, ...name('env'), ...name('memory'), 0x02, ...limits];
    const funcs = [...uleb(this.fns.length), ...this.fns.flatMap((_, i) => uleb(i))];
    const exports = [...uleb(this.fns.length), ...this.fns.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)])];
    const code = [...uleb(this.fns.length), ...this.fns.flatMap((f) => f.encode())];
    return new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      ...section(1, [...uleb(this.fns.length), ...types]),
      ...section(2, imports),
      ...section(3, funcs),
      ...section(7, exports),
      ...section(10, code),
    ]);
  }

  text(): string {
    return `(module\n  (import "env" "memory" (memory${this.memory.shared ? ` 1 ${this.memory.maxPages} shared` : ' 1'}))\n${this.fns.map((f) => f.text()).join('\n\n')})`;
  }
}
