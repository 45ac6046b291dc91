// Seeded randomness: a small, fast generator (xoshiro128**) that gives the same numbers on every
// platform, and the random tensor constructors. Not bit-compatible with PyTorch's generator:
// weights move between the two through checkpoints.
import { type DType, isFloat } from './dtype.ts';
import { WedgeError, fmtShape } from './errors.ts';
import { allocateFor, checkShape } from './shape.ts';
import { Tensor } from './tensor.ts';

/** splitmix32: spreads a seed over the generator's 128 bits of state. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded random number generator (xoshiro128**).
 * @example const g = new Generator().manualSeed(42); randn([2, 3], { generator: g });
 */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;
  private seedValue = 0;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Reset to the stream of `seed` (any safe integer). */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed)) throw new WedgeError(`manualSeed: seed must be a safe integer, got ${seed}`);
    this.seedValue = seed;
    const hi = Math.floor(seed / 2 ** 32);
    const mix = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
    for (let i = 0; i < 4; i++) this.s[i] = mix();
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    this.spare = null;
    return this;
  }

  initialSeed(): number {
    return this.seedValue;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [0, 1) with 24 random bits: exactly representable in float32, never rounds to 1. */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Standard normal (Box–Muller, both outputs used). */
  nextNormal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = 1 - this.nextDouble(); // (0, 1]: log stays finite
    const u2 = this.nextDouble();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [low, high). */
  nextInt(low: number, high: number): number {
    return low + Math.floor(this.nextDouble() * (high - low));
  }

  /** The state, to save and restore a stream exactly. */
  getState(): GeneratorState {
    return { s: Array.from(this.s), spare: this.spare };
  }
  setState(state: GeneratorState): this {
    this.s.set(state.s);
    this.spare = state.spare;
    return this;
  }
}

/**
 * A generator's full state (getState/setState), to resume a sequence exactly.
 * @example
 * const s = g.getState(); randn([2], { generator: g }); g.setState(s); // the same draws again
 */
export interface GeneratorState {
  s: number[];
  spare: number | null;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** The generator used when none is given. @example manualSeed(0); randn([2]) // draws from defaultGenerator */
export const defaultGenerator = new Generator(0);

/** Seed the default generator. @example manualSeed(0) */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

/**
 * Options of the random constructors: the `generator` to draw from (default: defaultGenerator), `dtype`,
 * `requiresGrad`.
 * @example
 * rand([2, 2], { generator: new Generator(1), dtype: 'float64' })
 */
export interface RandomOptions {
  generator?: Generator;
  dtype?: DType;
  requiresGrad?: boolean;
}

function filled(op: string, shape: readonly number[], opts: RandomOptions, draw: (g: Generator, float32: boolean) => number): Tensor {
  const dtype = opts.dtype ?? 'float32';
  if (!isFloat(dtype)) throw new WedgeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  checkShape(op, shape, dtype);
  const g = opts.generator ?? defaultGenerator;
  const data = allocateFor(op, dtype, shape);
  const f32 = dtype === 'float32';
  for (let i = 0; i < data.length; i++) data[i] = draw(g, f32);
  const t = Tensor.fromArray(data, shape, dtype);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Uniform in [0, 1). @example rand([2, 3], { generator: g }) */
export const rand = (shape: readonly number[], opts: RandomOptions = {}): Tensor =>
  filled('rand', shape, opts, (g, f32) => (f32 ? g.nextFloat() : g.nextDouble()));

/** Standard normal. @example randn([4, 3], { generator: new Generator(0) }) */
export const randn = (shape: readonly number[], opts: RandomOptions = {}): Tensor =>
  filled('randn', shape, opts, (g) => g.nextNormal());

/**
 * Uniform in [low, high), drawn in float64 and rounded to the dtype. Used by the nn initialisers.
 * @example
 * uniform([3, 4], -0.5, 0.5, { generator: g })
 */
export const uniform = (shape: readonly number[], low: number, high: number, opts: RandomOptions = {}): Tensor =>
  filled('uniform', shape, opts, (g) => low + (high - low) * g.nextDouble());

/** Normal with the given mean and standard deviation. @example normal([3], 0, 0.02, { generator: g }) */
export const normal = (shape: readonly number[], mean: number, std: number, opts: RandomOptions = {}): Tensor =>
  filled('normal', shape, opts, (g) => mean + std * g.nextNormal());

/** Uniform integers in [low, high), int32. @example randint(0, 16, [32, 64], { generator: g }) */
export function randint(low: number, high: number, shape: readonly number[], opts: { generator?: Generator } = {}): Tensor {
  checkShape('randint', shape, 'int32');
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new WedgeError(`randint: needs integers low < high, got low=${low}, high=${high}`);
  }
  const g = opts.generator ?? defaultGenerator;
  const data = allocateFor('randint', 'int32', shape);
  for (let i = 0; i < data.length; i++) data[i] = g.nextInt(low, high);
  return Tensor.fromArray(data, shape, 'int32');
}

/**
 * A random permutation of 0..n-1, int32 (Fisher–Yates).
 * @example
 * randperm(5, { generator: new Generator(0) }) // a permutation of 0..4
 */
export function randperm(n: number, opts: { generator?: Generator } = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new WedgeError(`randperm: n must be a non-negative integer, got ${n}`);
  const g = opts.generator ?? defaultGenerator;
  const data = allocateFor('randperm', 'int32', [n]);
  for (let i = 0; i < n; i++) data[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextInt(0, i + 1);
    [data[i], data[j]] = [data[j], data[i]];
  }
  return Tensor.fromArray(data, [n], 'int32');
}
