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

/**
 * What binary ops accept: a tensor, or a plain number or boolean (broadcast as a scalar).
 * @example
 * const y: TensorLike = 2; x.mul(y);
 */
export type TensorLike = Tensor | number | boolean;

/**
 * An N-d strided view (shape, strides, offset) over a Storage, with reverse-mode autodiff. Make one with tensor(),
 * zeros(), randn() and friends; ops are methods and free functions alike.
 * @example
 * const x = tensor([[1, 2], [3, 4]]);
 * x.matmul(x).sum().item(); // 54
 */
export class Tensor {
  /** Set by the op that made this tensor; null for leaves. @example loss.node?.op // 'mean' */
  node: Node | null = null;
  /** Accumulated gradient (leaves, and non-leaves after retainGrad()). @example w.grad?.toArray() */
  grad: Tensor | null = null;
  private _requiresGrad = false;
  /**
   * Non-leaf tensors keep their gradient only when asked (PyTorch's retain_grad).
   * @example
   * h.retainGrad(); h.retainsGrad // true
   */
  retainsGrad = false;

  /**
   * A tensor over `storage` read through `shape`, `strides` and `offset` (a view: nothing is copied). Most code
   * calls tensor(), zeros() etc. instead.
   * @example
   * const t = new Tensor(new CpuStorage(new Float32Array([1, 2, 3, 4]), 'float32'), [2, 2]);
   */
  constructor(
    /** The buffer this tensor views (shared by views of it). @example x.storage.device // 'cpu' */
    public storage: Storage,
    /** Size of each dim. @example zeros([2, 3]).shape // [2, 3] */
    readonly shape: readonly number[],
    /**
     * Elements to step in storage per index of each dim (0 for a broadcast dim).
     * @example
     * zeros([2, 3]).strides // [3, 1]; zeros([2, 3]).mT.strides // [1, 3]
     */
    readonly strides: readonly number[] = contiguousStrides(shape),
    /** Index in storage of the first element. @example arange(6).slice(0, 2).offset // 2 */
    readonly offset = 0,
  ) {
    noteTensorCreated(this);
  }

  /**
   * A contiguous tensor over a fresh CPU buffer.
   * @example
   * Tensor.fromArray(new Float64Array([1, 2, 3, 4]), [2, 2], 'float64')
   */
  static fromArray(data: TypedArray, shape: Shape, dtype: DType): Tensor {
    if (data.length !== sizeOf(shape)) {
      throw new WedgeError(`tensor: ${data.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)})`);
    }
    return new Tensor(new CpuStorage(data, dtype), [...shape]);
  }

  /** The element type: 'float32', 'float64', 'int32' or 'bool'. @example tensor([1.5]).dtype // 'float32' */
  get dtype(): DType {
    return this.storage.dtype;
  }
  /** Where the values live: 'cpu', or a backend's name such as 'gpu'. @example x.device // 'cpu' */
  get device(): string {
    return this.storage.device;
  }
  /** Number of dims. @example zeros([2, 3, 4]).ndim // 3 */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. @example zeros([2, 3]).size // 6 */
  get size(): number {
    return sizeOf(this.shape);
  }
  /** Number of elements (PyTorch's numel(), the same as `size`). @example zeros([2, 3]).numel() // 6 */
  numel(): number {
    return this.size;
  }
  /**
   * True for tensors no recorded op made (inputs and parameters); their `.grad` is kept.
   * @example
   * randn([2], { requiresGrad: true }).isLeaf // true
   */
  get isLeaf(): boolean {
    return this.node === null;
  }
  /**
   * The op that made this tensor (PyTorch's grad_fn name), or null for a leaf.
   * @example
   * x.mul(w).gradFn // 'mul' (when w requires grad)
   */
  get gradFn(): string | null {
    return this.node?.op ?? null;
  }

  /**
   * Whether ops on this tensor are recorded for backward(). Only float tensors may; a non-leaf cannot turn it off
   * (use detach()).
   * @example
   * const w = zeros([3]); w.requiresGrad = true;
   */
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
  /** In-place setter that returns `this`, for chaining. @example const w = zeros([3, 2]).requiresGrad_(); */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }
  /**
   * Keep `.grad` on this non-leaf tensor after backward().
   * @example
   * const h = x.matmul(w).retainGrad(); h.sum().backward(); h.grad // ones
   */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /**
   * Whether the elements lie in row-major order with no gaps (views such as transposes are not).
   * @example
   * zeros([2, 3]).isContiguous() // true; zeros([2, 3]).mT.isContiguous() // false
   */
  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  // ---- reading values -------------------------------------------------------------------------

  /**
   * The values as a fresh contiguous typed array (row-major).
   * @example
   * tensor([[1, 2], [3, 4]]).mT.data() // Float32Array [1, 3, 2, 4]
   */
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
  /** The single value of a one-element tensor. @example tensor([[1, 2], [3, 4]]).sum().item() // 10 */
  item(): number {
    if (this.size !== 1) {
      throw new WedgeError(`item: needs a tensor with one element, got shape ${fmtShape(this.shape)} (${this.size} elements)`);
    }
    const v = this.storage.read()[this.offset];
    return this.dtype === 'bool' ? Number(v !== 0) : v;
  }
  /**
   * Nested arrays, like PyTorch's tolist(); booleans for bool tensors.
   * @example
   * tensor([[1, 2], [3, 4]]).toArray() // [[1, 2], [3, 4]]
   */
  toArray(): NestedArray {
    const flat = Array.from(this.data() as ArrayLike<number>, (v) => (this.dtype === 'bool' ? v !== 0 : v));
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.ndim) return flat[start];
      const step = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }
  /**
   * A printout like PyTorch's: the values (elided in the middle when large), then shape and dtype.
   * @example
   * console.log(String(eye(2))) // tensor([[1., 0.], [0., 1.]], shape=[2, 2]) (over two lines)
   */
  toString(): string {
    return formatTensor(this);
  }
  /**
   * Node's console.log and util.inspect print toString().
   * @example
   * console.log(eye(2)); // the same text as String(eye(2))
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- autograd -------------------------------------------------------------------------------

  /**
   * Reverse-mode sweep from this tensor. A non-scalar needs `gradient` (same shape).
   * @example
   * const loss = x.matmul(w).square().mean(); loss.backward(); w.grad // d loss / d w
   */
  backward(gradient?: Tensor, options?: BackwardOptions): void {
    runBackward(this, gradient, options);
  }
  /**
   * The same values, cut from the graph. Shares storage.
   * @example
   * const target = model.forward(x).detach(); // no gradient flows into target
   */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }
  /**
   * Free the storage (device memory on the GPU). Using the tensor afterwards is an error.
   * @example
   * const y = x.exp(); console.log(y.item()); y.dispose();
   */
  dispose(): void {
    this.storage.dispose();
  }
  /**
   * Whether dispose() freed the storage (reading the tensor then is an error).
   * @example
   * y.dispose(); y.disposed // true
   */
  get disposed(): boolean {
    return this.storage.disposed;
  }

  // ---- elementwise ----------------------------------------------------------------------------
  /** this + other, elementwise, broadcasting (add()). @example x.add(1); x.add(y) */
  add(other: TensorLike): Tensor { return E.add(this, other); }
  /** this − other, elementwise, broadcasting (sub()). @example x.sub(x.mean()) */
  sub(other: TensorLike): Tensor { return E.sub(this, other); }
  /** this · other, elementwise, broadcasting (mul()). @example x.mul(0.5) */
  mul(other: TensorLike): Tensor { return E.mul(this, other); }
  /** this / other, true division, broadcasting (div()). @example x.div(x.sum(-1, true)) */
  div(other: TensorLike): Tensor { return E.div(this, other); }
  /** this raised to `exponent` (a tensor or number), broadcasting (pow()). @example x.pow(2) */
  pow(exponent: TensorLike): Tensor { return E.pow(this, exponent); }
  /** Elementwise maximum with `other` (NaN propagates) (maximum()). @example x.maximum(0) // ReLU */
  maximum(other: TensorLike): Tensor { return E.maximum(this, other); }
  /** Elementwise minimum with `other` (NaN propagates) (minimum()). @example x.minimum(1) */
  minimum(other: TensorLike): Tensor { return E.minimum(this, other); }
  /** −this (neg()). @example x.neg() */
  neg(): Tensor { return E.neg(this); }
  /** eˣ elementwise (exp()). @example tensor([0, 1]).exp() // [1, 2.718…] */
  exp(): Tensor { return E.exp(this); }
  /** Natural log elementwise (log()). @example x.softmax(-1).log() */
  log(): Tensor { return E.log(this); }
  /** √x elementwise (sqrt()). @example tensor([4, 9]).sqrt() // [2, 3] */
  sqrt(): Tensor { return E.sqrt(this); }
  /** |x| elementwise (abs()). @example tensor([-2, 3]).abs() // [2, 3] */
  abs(): Tensor { return E.abs(this); }
  /** tanh elementwise (tanh()). @example x.tanh() */
  tanh(): Tensor { return E.tanh(this); }
  /** 1 / (1 + e⁻ˣ) elementwise (sigmoid()). @example logits.sigmoid() */
  sigmoid(): Tensor { return E.sigmoid(this); }
  /** max(x, 0) elementwise (relu()). @example x.matmul(w).relu() */
  relu(): Tensor { return E.relu(this); }
  /** sin elementwise (sin()). @example arange(4).mul(Math.PI / 2).sin() */
  sin(): Tensor { return E.sin(this); }
  /** cos elementwise (cos()). @example arange(4).mul(Math.PI / 2).cos() */
  cos(): Tensor { return E.cos(this); }
  /** −1, 0 or 1 by the sign of each element (sign()). @example tensor([-3, 0, 2]).sign() // [-1, 0, 1] */
  sign(): Tensor { return E.sign(this); }
  /** x² elementwise (square()). @example x.sub(y).square().mean() // mean squared error */
  square(): Tensor { return E.square(this); }
  /**
   * this == other elementwise, as a bool tensor (eq()).
   * @example
   * logits.argmax(-1).eq(targets).float().mean() // accuracy
   */
  eq(other: TensorLike): Tensor { return E.eq(this, other); }
  /** this != other elementwise, as a bool tensor (ne()). @example ids.ne(0) // mask of non-padding tokens */
  ne(other: TensorLike): Tensor { return E.ne(this, other); }
  /** this < other elementwise, as a bool tensor (lt()). @example x.lt(0) */
  lt(other: TensorLike): Tensor { return E.lt(this, other); }
  /** this ≤ other elementwise, as a bool tensor (le()). @example x.le(1) */
  le(other: TensorLike): Tensor { return E.le(this, other); }
  /** this > other elementwise, as a bool tensor (gt()). @example x.gt(0).float() */
  gt(other: TensorLike): Tensor { return E.gt(this, other); }
  /** this ≥ other elementwise, as a bool tensor (ge()). @example x.ge(0) */
  ge(other: TensorLike): Tensor { return E.ge(this, other); }
  /**
   * `value` where `mask` (bool, broadcasting) is true, this elsewhere (maskedFill()).
   * @example
   * scores.maskedFill(triu(ones([T, T]), 1).gt(0), -Infinity) // causal: no attending ahead
   */
  maskedFill(mask: Tensor, value: number | boolean): Tensor { return E.maskedFill(this, mask, value); }
  /**
   * The values as `dtype` (this itself when it already is); float → int truncates toward 0 (cast()).
   * @example
   * ids.to('float32')
   */
  to(dtype: DType): Tensor { return E.cast(this, dtype); }
  /** to('float32'). @example mask.float() */
  float(): Tensor { return E.cast(this, 'float32'); }
  /** to('float64'). @example x.double() // for gradcheck */
  double(): Tensor { return E.cast(this, 'float64'); }
  /** to('int32') (truncates toward 0). @example tensor([1.7, -1.7]).int() // [1, -1] */
  int(): Tensor { return E.cast(this, 'int32'); }

  // ---- reductions -----------------------------------------------------------------------------
  /**
   * Sum over `dim` (a dim, a list, or all when omitted); `keepdim` keeps reduced dims as size 1 (sum()).
   * @example
   * x.sum(); x.sum(-1, true)
   */
  sum(dim?: number | number[], keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  /** Mean over `dim` (all when omitted) (mean()). @example loss.mean(); x.mean([0, 1]) */
  mean(dim?: number | number[], keepdim = false): Tensor { return R.mean(this, dim, keepdim); }
  /**
   * Largest value over `dim` (all when omitted); the gradient is split between ties (max()).
   * @example
   * scores.max(-1, true)
   */
  max(dim?: number | number[], keepdim = false): Tensor { return R.max(this, dim, keepdim); }
  /** Smallest value over `dim` (all when omitted) (min()). @example x.min(0) */
  min(dim?: number | number[], keepdim = false): Tensor { return R.min(this, dim, keepdim); }
  /**
   * Index (int32) of the largest value along `dim`, the first on ties; over the flattened tensor when omitted
   * (argmax()).
   * @example
   * logits.argmax(-1) // predicted ids
   */
  argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  /** Index (int32) of the smallest value along `dim`, the first on ties (argmin()). @example distances.argmin(-1) */
  argmin(dim?: number, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }

  // ---- movement (views where possible) --------------------------------------------------------
  /**
   * The same elements in a new shape (one dim may be −1); a view when the strides allow, else a copy (reshape()).
   * @example
   * x.reshape([B, T, H, D]); x.reshape(-1)
   */
  reshape(...shape: number[] | [number[]]): Tensor { return M.reshape(this, flatArgs(shape)); }
  /**
   * reshape() that must not copy: a WedgeError when the strides do not allow a view (view()).
   * @example
   * x.view([2, -1])
   */
  view(...shape: number[] | [number[]]): Tensor { return M.view(this, flatArgs(shape)); }
  /** Dims startDim..endDim merged into one (flatten()). @example images.flatten(1) // [B, C·H·W] */
  flatten(startDim = 0, endDim = -1): Tensor { return M.flatten(this, startDim, endDim); }
  /** dim0 and dim1 swapped, as a view (transpose()). @example q.transpose(1, 2) // [B, T, H, D] → [B, H, T, D] */
  transpose(dim0: number, dim1: number): Tensor { return M.transpose(this, dim0, dim1); }
  /** Dims reordered, as a view (permute()). @example x.permute(0, 2, 1, 3) */
  permute(...dims: number[] | [number[]]): Tensor { return M.permute(this, flatArgs(dims)); }
  /** Transpose of the last two dims. @example q.matmul(k.mT) // [.., T, T] */
  get mT(): Tensor { return M.transpose(this, -2, -1); }
  /** A size-1 dim inserted at `dim`, as a view (unsqueeze()). @example bias.unsqueeze(0) // [1, N] */
  unsqueeze(dim: number): Tensor { return M.unsqueeze(this, dim); }
  /**
   * Size-1 dims removed (all, or those named), as a view (squeeze()).
   * @example
   * zeros([2, 1, 3]).squeeze(1).shape // [2, 3]
   */
  squeeze(dim?: number | number[]): Tensor { return M.squeeze(this, dim); }
  /**
   * Size-1 dims repeated to `shape` by stride 0 (no copy); −1 keeps a dim (expand()).
   * @example
   * zeros([1, 3]).expand(4, 3)
   */
  expand(...shape: number[] | [number[]]): Tensor { return M.expand(this, flatArgs(shape)); }
  /** `x[..., start:end:step]` along `dim`, as a view. @example x.slice(-1, 0, undefined, 2) // x[..., 0::2] */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return M.slice(this, dim, start, end, step); }
  /** `length` elements of `dim` from `start`, as a view (narrow()). @example x.narrow(1, 2, 3) // x[:, 2:5] */
  narrow(dim: number, start: number, length: number): Tensor { return M.narrow(this, dim, start, length); }
  /**
   * This, when already contiguous; else a row-major copy (contiguous()).
   * @example
   * x.mT.contiguous().isContiguous() // true
   */
  contiguous(): Tensor { return M.contiguous(this); }
  /** A copy with its own storage (recorded for backward) (clone()). @example const before = w.clone(); */
  clone(): Tensor { return M.clone(this); }
  /**
   * Views of consecutive pieces along `dim`: of `size` each (the last may be shorter), or of the listed sizes
   * (split()).
   * @example
   * const [q, k, v] = qkv.split(dModel, -1);
   */
  split(sizeOrSections: number | number[], dim = 0): Tensor[] { return M.split(this, sizeOrSections, dim); }
  /** `chunks` views of (nearly) equal size along `dim` (chunk()). @example const [a, b] = x.chunk(2, -1); */
  chunk(chunks: number, dim = 0): Tensor[] { return M.chunk(this, chunks, dim); }

  // ---- linear algebra, indexing, softmax ------------------------------------------------------
  /**
   * Matrix product with broadcast batch dims, as torch.matmul (1-D operands too) (matmul()).
   * @example
   * q.matmul(k.mT).div(Math.sqrt(d))
   */
  matmul(other: Tensor): Tensor { return L.matmul(this, other); }
  /**
   * Values picked along `dim` by `index` (int32, same rank) (gather()).
   * @example
   * logProbs.gather(-1, targets.unsqueeze(-1))
   */
  gather(dim: number, index: Tensor): Tensor { return I.gather(this, dim, index); }
  /** The entries of `dim` listed in `index` (int32, 1-D) (indexSelect()). @example table.indexSelect(0, ids) */
  indexSelect(dim: number, index: Tensor): Tensor { return I.indexSelect(this, dim, index); }
  /** exp(x) / Σ exp(x) along `dim`, computed max-shifted (softmax()). @example scores.softmax(-1) */
  softmax(dim: number): Tensor { return S.softmax(this, dim); }
  /** log(softmax(x)) along `dim`, computed stably (logSoftmax()). @example logits.logSoftmax(-1) */
  logSoftmax(dim: number): Tensor { return S.logSoftmax(this, dim); }
}

/**
 * Nested arrays of numbers or booleans, as toArray() returns and tensor() accepts.
 * @example
 * const rows: NestedArray = [[1, 2], [3, 4]];
 */
export type NestedArray = number | boolean | NestedArray[];

function flatArgs(args: number[] | [number[]]): number[] {
  return Array.isArray(args[0]) ? (args[0] as number[]) : (args as number[]);
}

// Every elementwise op of the table (ops/elementwise.ts) is a method too: the compiler names any
// op that lacks one here.
void (Tensor.prototype satisfies Record<E.ElementwiseOp, (...args: never[]) => Tensor>);
