// The Tensor: a strided view (shape, strides, offset) of a Storage, plus the autograd fields.
// Methods are thin wrappers over the free functions in ops/, so `x.matmul(w).softmax(-1)` and
// `softmax(matmul(x, w), -1)` are the same thing.
import { type DType, type TypedArray, isFloat } from './dtype.ts';
import { WedgeError, fmtShape } from './errors.ts';
import { type Shape, contiguousStrides, sizeOf } from './shape.ts';
import { CpuStorage, type Storage } from './storage.ts';
import type { Node } from './autograd/node.ts';
import { backward as runBackward, type BackwardOptions } from './autograd/engine.ts';
import { formatTensor } from './format.ts';
import * as E from './ops/elementwise.ts';
import * as R from './ops/reduce.ts';
import * as M from './ops/movement.ts';
import * as L from './ops/linalg.ts';
import * as I from './ops/indexing.ts';
import * as S from './ops/softmax.ts';
import { noteTensorCreated } from './memory.ts';

export type TensorLike = Tensor | number | boolean;

export class Tensor {
  /** Set by the op that made this tensor; null for leaves. */
  node: Node | null = null;
  /** Accumulated gradient (leaves, and non-leaves after retainGrad()). */
  grad: Tensor | null = null;
  private _requiresGrad = false;
  /** Non-leaf tensors keep their gradient only when asked (PyTorch's retain_grad). */
  retainsGrad = false;

  constructor(
    public storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    noteTensorCreated(this);
  }

  /** A contiguous tensor over a fresh CPU buffer. */
  static fromArray(data: TypedArray, shape: Shape, dtype: DType): Tensor {
    if (data.length !== sizeOf(shape)) {
      throw new WedgeError(`tensor: ${data.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)})`);
    }
    return new Tensor(new CpuStorage(data, dtype), [...shape]);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): string {
    return this.storage.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }
  numel(): number {
    return this.size;
  }
  get isLeaf(): boolean {
    return this.node === null;
  }
  /** The op that made this tensor (PyTorch's grad_fn name), or null for a leaf. */
  get gradFn(): string | null {
    return this.node?.op ?? null;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(flag: boolean) {
    if (flag && !isFloat(this.dtype)) {
      throw new WedgeError(
        `requiresGrad: only floating-point tensors can require gradients; this one is ${this.dtype} ${fmtShape(this.shape)}`,
      );
    }
    if (!flag && this.node) {
      throw new WedgeError(
        `requiresGrad: cannot turn gradients off on a non-leaf tensor (made by ${this.node.op}); use detach()`,
      );
    }
    this._requiresGrad = flag;
  }
  /** In-place setter that returns `this`, for chaining. */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }
  /** Keep `.grad` on this non-leaf tensor after backward(). */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  // ---- reading values -------------------------------------------------------------------------

  /** The values as a fresh contiguous typed array (row-major). */
  data(): TypedArray {
    return M.contiguousData(this);
  }
  /**
   * The values, as data() gives them, through a promise that settles on a later task: a loop that
   * awaits it between steps lets its thread handle messages and paint. A storage with an
   * asynchronous download (`readAsync`) is awaited instead of being read synchronously.
   * @example const probs = await model.forward(x).softmax(-1).dataAsync();
   */
  async dataAsync(): Promise<TypedArray> {
    if (this.storage.readAsync) await this.storage.readAsync();
    else await new Promise<void>((resolve) => setTimeout(resolve, 0));
    return this.data();
  }
  /**
   * item() through a promise, as dataAsync() reads: the value of a one-element tensor.
   * @example const lossValue = await loss.itemAsync();
   */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) {
      throw new WedgeError(`itemAsync: needs a tensor with one element, got shape ${fmtShape(this.shape)} (${this.size} elements)`);
    }
    return (await this.dataAsync())[0];
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new WedgeError(`item: needs a tensor with one element, got shape ${fmtShape(this.shape)} (${this.size} elements)`);
    }
    const v = this.storage.read()[this.offset];
    return this.dtype === 'bool' ? Number(v !== 0) : v;
  }
  /** Nested arrays, like PyTorch's tolist(); booleans for bool tensors. */
  toArray(): NestedArray {
    const flat = Array.from(this.data() as ArrayLike<number>, (v) => (this.dtype === 'bool' ? v !== 0 : v));
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.ndim) return flat[start];
      const step = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- autograd -------------------------------------------------------------------------------

  /** Reverse-mode sweep from this tensor. A non-scalar needs `gradient` (same shape). */
  backward(gradient?: Tensor, options?: BackwardOptions): void {
    runBackward(this, gradient, options);
  }
  /** The same values, cut from the graph. Shares storage. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }
  /** Free the storage (device memory on the GPU). Using the tensor afterwards is an error. */
  dispose(): void {
    this.storage.dispose();
  }
  get disposed(): boolean {
    return this.storage.disposed;
  }

  // ---- elementwise ----------------------------------------------------------------------------
  add(other: TensorLike): Tensor { return E.add(this, other); }
  sub(other: TensorLike): Tensor { return E.sub(this, other); }
  mul(other: TensorLike): Tensor { return E.mul(this, other); }
  div(other: TensorLike): Tensor { return E.div(this, other); }
  pow(exponent: TensorLike): Tensor { return E.pow(this, exponent); }
  maximum(other: TensorLike): Tensor { return E.maximum(this, other); }
  minimum(other: TensorLike): Tensor { return E.minimum(this, other); }
  neg(): Tensor { return E.neg(this); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  abs(): Tensor { return E.abs(this); }
  tanh(): Tensor { return E.tanh(this); }
  sigmoid(): Tensor { return E.sigmoid(this); }
  relu(): Tensor { return E.relu(this); }
  sin(): Tensor { return E.sin(this); }
  cos(): Tensor { return E.cos(this); }
  sign(): Tensor { return E.sign(this); }
  square(): Tensor { return E.square(this); }
  eq(other: TensorLike): Tensor { return E.eq(this, other); }
  ne(other: TensorLike): Tensor { return E.ne(this, other); }
  lt(other: TensorLike): Tensor { return E.lt(this, other); }
  le(other: TensorLike): Tensor { return E.le(this, other); }
  gt(other: TensorLike): Tensor { return E.gt(this, other); }
  ge(other: TensorLike): Tensor { return E.ge(this, other); }
  maskedFill(mask: Tensor, value: number | boolean): Tensor { return E.maskedFill(this, mask, value); }
  to(dtype: DType): Tensor { return E.cast(this, dtype); }
  float(): Tensor { return E.cast(this, 'float32'); }
  double(): Tensor { return E.cast(this, 'float64'); }
  int(): Tensor { return E.cast(this, 'int32'); }

  // ---- reductions -----------------------------------------------------------------------------
  sum(dim?: number | number[], keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  mean(dim?: number | number[], keepdim = false): Tensor { return R.mean(this, dim, keepdim); }
  max(dim?: number | number[], keepdim = false): Tensor { return R.max(this, dim, keepdim); }
  min(dim?: number | number[], keepdim = false): Tensor { return R.min(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }

  // ---- movement (views where possible) --------------------------------------------------------
  reshape(...shape: number[] | [number[]]): Tensor { return M.reshape(this, flatArgs(shape)); }
  view(...shape: number[] | [number[]]): Tensor { return M.view(this, flatArgs(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return M.flatten(this, startDim, endDim); }
  transpose(dim0: number, dim1: number): Tensor { return M.transpose(this, dim0, dim1); }
  permute(...dims: number[] | [number[]]): Tensor { return M.permute(this, flatArgs(dims)); }
  /** Transpose of the last two dims. */
  get mT(): Tensor { return M.transpose(this, -2, -1); }
  unsqueeze(dim: number): Tensor { return M.unsqueeze(this, dim); }
  squeeze(dim?: number | number[]): Tensor { return M.squeeze(this, dim); }
  expand(...shape: number[] | [number[]]): Tensor { return M.expand(this, flatArgs(shape)); }
  /** `x[..., start:end:step]` along `dim`, as a view. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return M.slice(this, dim, start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor { return M.narrow(this, dim, start, length); }
  contiguous(): Tensor { return M.contiguous(this); }
  clone(): Tensor { return M.clone(this); }
  split(sizeOrSections: number | number[], dim = 0): Tensor[] { return M.split(this, sizeOrSections, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return M.chunk(this, chunks, dim); }

  // ---- linear algebra, indexing, softmax ------------------------------------------------------
  matmul(other: Tensor): Tensor { return L.matmul(this, other); }
  gather(dim: number, index: Tensor): Tensor { return I.gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return I.indexSelect(this, dim, index); }
  softmax(dim: number): Tensor { return S.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return S.logSoftmax(this, dim); }
}

export type NestedArray = number | boolean | NestedArray[];

function flatArgs(args: number[] | [number[]]): number[] {
  return Array.isArray(args[0]) ? (args[0] as number[]) : (args as number[]);
}

// Every elementwise op of the table (ops/elementwise.ts) is a method too: the compiler names any
// op that lacks one here.
void (Tensor.prototype satisfies Record<E.ElementwiseOp, (...args: never[]) => Tensor>);
