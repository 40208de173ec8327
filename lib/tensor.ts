// Tensor: an N-d float32 array with a readonly shape, stored contiguously in
// row-major order (NCHW for images). Host tensors wrap a Float32Array; the
// storage interface leaves room for device memory (GPU) behind the same API.

import { describeValue, invalidType, invalidValue } from './errors';
import { Rng } from './random';
import { checkShape, type Shape, type ShapeOf } from './shape';
import { CudaStorage } from './cuda_storage';

/** Host tensors are float32; tensors on 'cuda' may also be float16 or bfloat16. */
export type DType = 'float32' | 'float16' | 'bfloat16';
export type Device = 'cpu' | 'cuda';

/** Where a tensor's elements live. Host storage is a Float32Array. */
export interface TensorStorage {
  readonly device: Device;
  /** Element type; absent means float32. */
  readonly dtype?: DType;
  /** Host tensors: the Float32Array itself. Device tensors: a fresh host copy. */
  readSync(): Float32Array;
  read(): Promise<Float32Array>;
  dispose(): void;
}

export class HostStorage implements TensorStorage {
  readonly device = 'cpu' as const;
  constructor(public data: Float32Array) {}
  readSync(): Float32Array {
    return this.data;
  }
  read(): Promise<Float32Array> {
    return Promise.resolve(this.data);
  }
  dispose(): void {
    // Host memory belongs to the garbage collector; dropping the reference is enough.
    this.data = new Float32Array(0);
  }
}

export class Tensor<S extends Shape = Shape> {
  readonly shape: S;
  readonly size: number;
  #storage: TensorStorage | null;

  /**
   * Prefer tensor(), zeros() or randn(). The shape must already be validated;
   * host storage must hold exactly the shape's element count, in a
   * fixed-length buffer (RangeError otherwise).
   */
  constructor(storage: TensorStorage, shape: S) {
    this.#storage = storage;
    this.shape = Object.freeze(shape.slice()) as unknown as S;
    let size = 1;
    for (const d of shape) size *= d;
    this.size = size;
    if (storage instanceof HostStorage) {
      checkFixedLength(storage.data, 'storage');
      if (storage.data.length !== size)
        throw new RangeError(
          `Expected ${size} elements for storage (shape [${shape.join(', ')}]) but received ${describeValue(storage.data)}`,
        );
    }
  }

  get device(): Device {
    return this.storage.device;
  }

  /** Element type: float32 on the host; float32, float16 or bfloat16 on 'cuda'. */
  get dtype(): DType {
    return this.#storage?.dtype ?? 'float32';
  }

  /**
   * This tensor on `device` (and, on 'cuda', in `options.dtype`): a copy, or
   * the tensor itself when it already is there in that type. Host tensors are
   * always float32; reading a half-precision device tensor converts it.
   */
  to(device: Device, options: { dtype?: DType } = {}): Tensor<S> {
    checkDevice(device, 'device');
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
    const dtype = options.dtype ?? (device === 'cpu' ? 'float32' : this.dtype);
    checkDType(dtype, device, 'options.dtype');
    if (device === this.device && dtype === this.dtype) return this;
    // Here the source is on the GPU: dataSync() already returns a fresh host copy.
    if (device === 'cpu') return new Tensor(new HostStorage(this.dataSync()), this.shape.slice() as unknown as S);
    const st = this.storage;
    if (st instanceof CudaStorage) return new Tensor(st.convert(dtype), this.shape.slice() as unknown as S);
    return new Tensor(CudaStorage.fromHost(this.dataSync(), this.shape, dtype), this.shape.slice() as unknown as S);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.#storage === null;
  }

  /** The storage; throws a TypeError when the tensor has been disposed. */
  get storage(): TensorStorage {
    if (this.#storage === null) throw new TypeError('Expected a live tensor but received a disposed tensor');
    return this.#storage;
  }

  /**
   * The elements. For host tensors this is the tensor's own memory (a view, not
   * a copy: writes change the tensor, and it must not be written while an async
   * op reads it). For device tensors it is a fresh host copy.
   */
  dataSync(): Float32Array {
    return this.storage.readSync();
  }

  /** Like dataSync(), but waits for pending device work without blocking the event loop. */
  data(): Promise<Float32Array> {
    return this.storage.read();
  }

  /** Elements as a nested JS array (for printing and tests). */
  arraySync(): unknown {
    const d = this.dataSync();
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return d[offset];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** A tensor with the same elements (shared memory) and a new shape of equal size. */
  reshape<T extends readonly number[]>(shape: readonly [...T]): Tensor<ShapeOf<T>> {
    const size = checkShape(shape, 'shape');
    if (size !== this.size) {
      throw invalidValue('shape', `a shape with ${this.size} elements (the tensor's size)`, shape);
    }
    return new Tensor(this.storage, shape as unknown as ShapeOf<T>);
  }

  /** Releases the tensor's memory. Any later use throws a TypeError. Idempotent. */
  dispose(): void {
    if (this.#storage === null) return;
    const s = this.#storage;
    this.#storage = null;
    // Reshaped views share storage: only release host memory we own alone.
    if (s.device !== 'cpu') s.dispose();
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.isDisposed ? 'disposed' : this.device})`;
  }
}

/**
 * Refuses a Float32Array over a resizable ArrayBuffer or a growable
 * SharedArrayBuffer: its memory can shrink or move while a native call reads
 * or writes it (see docs/safety.md). RangeError naming `param`.
 */
export function checkFixedLength(data: Float32Array, param: string): void {
  const buf = data.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
  if (buf.resizable === true || buf.growable === true)
    throw new RangeError(
      `Expected a Float32Array over a fixed-length buffer for ${param} but received one over a ${buf.resizable ? 'resizable ArrayBuffer' : 'growable SharedArrayBuffer'}`,
    );
}

/** Checks that v is a live Tensor and returns it; errors name `param`. */
export function checkTensor(v: unknown, param: string): Tensor {
  if (!(v instanceof Tensor)) throw invalidType(param, 'a Tensor', v);
  if (v.isDisposed) throw new TypeError(`Expected a live tensor for ${param} but received a disposed tensor`);
  return v;
}

/**
 * A float32 tensor over `data` with the given shape. A Float32Array is used as
 * is (no copy: the tensor and the caller share it); a number array is copied.
 */
export function tensor<T extends readonly number[]>(
  data: Float32Array | ArrayLike<number>,
  shape: readonly [...T],
  options?: TensorOptions,
): Tensor<ShapeOf<T>> {
  const size = checkShape(shape, 'shape');
  const { device = 'cpu', dtype = 'float32' } = checkTensorOptions(options);
  let arr: Float32Array;
  if (data instanceof Float32Array) {
    checkFixedLength(data, 'data');
    arr = data;
  } else if (Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView))) {
    arr = Float32Array.from(data as ArrayLike<number>);
  } else {
    throw invalidType('data', 'a Float32Array or an array of numbers', data);
  }
  if (arr.length !== size) {
    throw new RangeError(`Expected ${size} elements for data (shape [${shape.join(', ')}]) but received ${describeValue(data)}`);
  }
  if (device === 'cuda') return new Tensor(CudaStorage.fromHost(arr, shape, dtype), shape as unknown as ShapeOf<T>);
  return new Tensor(new HostStorage(arr), shape as unknown as ShapeOf<T>);
}

export interface TensorOptions {
  /** Default 'cpu'. On 'cuda' the data is copied to the GPU. */
  device?: Device;
  /** Default 'float32'; 'float16' and 'bfloat16' on 'cuda' only. */
  dtype?: DType;
}

function checkDevice(device: unknown, param: string): asserts device is Device {
  if (device !== 'cpu' && device !== 'cuda') throw invalidValue(param, "'cpu' or 'cuda'", device);
}

function checkDType(dtype: unknown, device: Device, param: string): asserts dtype is DType {
  if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'bfloat16')
    throw invalidValue(param, "'float32', 'float16' or 'bfloat16'", dtype);
  if (device === 'cpu' && dtype !== 'float32')
    throw invalidValue(param, "'float32' (host tensors are float32; use device 'cuda' for half types)", dtype);
}

function checkTensorOptions(options: unknown): { device: Device; dtype: DType } {
  if (options === undefined) return { device: 'cpu', dtype: 'float32' };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType('options', 'an options object', options);
  const o = options as TensorOptions;
  const device = o.device ?? 'cpu';
  checkDevice(device, 'options.device');
  const dtype = o.dtype ?? 'float32';
  checkDType(dtype, device, 'options.dtype');
  return { device, dtype };
}

/** Read once: RESNEXT_POISON_OUTPUTS=1 fills fresh op outputs with NaN (see outputArray). */
const POISON_OUTPUTS = typeof process !== 'undefined' && process.env?.RESNEXT_POISON_OUTPUTS === '1';

/**
 * A host array for an op to overwrite whole: not zero-filled. `new Float32Array(n)` zero-fills (calloc), which
 * for a one-shot conv2d()'s fresh output cost as much as a fifth of the call (12 us of a 400 KB output, 50 us of
 * 1.6 MB; docs/performance.md "Fresh outputs"). Buffer.allocUnsafeSlow gives an ArrayBuffer of its own (byteOffset
 * 0, exact length: it transfers and detaches like any other; never a slice of the pool Buffer.allocUnsafe uses)
 * without the fill. With RESNEXT_POISON_OUTPUTS=1 (the test suite sets it) it is filled with NaN instead, so an
 * element a kernel fails to write shows up in every comparison with the reference.
 */
export function outputArray(size: number): Float32Array {
  if (typeof Buffer === 'undefined') return new Float32Array(size);
  const a = new Float32Array(Buffer.allocUnsafeSlow(size * Float32Array.BYTES_PER_ELEMENT).buffer, 0, size);
  return POISON_OUTPUTS ? a.fill(NaN) : a;
}

/** Same length and bit for bit the same elements (-0 and 0 differ, so do NaN payloads): memcmp on this thread. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** An uninitialised tensor of `shape` on the device and in the type of `like`: outputs of ops. */
export function emptyLike<T extends Shape>(shape: T, like: Tensor): Tensor<T> {
  if (like.device === 'cuda') return new Tensor(CudaStorage.empty(shape, like.dtype), shape);
  let size = 1;
  for (const d of shape) size *= d;
  return new Tensor(new HostStorage(outputArray(size)), shape);
}

/** A tensor of zeros. */
export function zeros<T extends readonly number[]>(shape: readonly [...T]): Tensor<ShapeOf<T>> {
  const size = checkShape(shape, 'shape');
  return new Tensor(new HostStorage(new Float32Array(size)), shape as unknown as ShapeOf<T>);
}

/** A tensor filled with `value`. */
export function full<T extends readonly number[]>(shape: readonly [...T], value: number): Tensor<ShapeOf<T>> {
  if (typeof value !== 'number') throw invalidType('value', 'a number', value);
  const t = zeros(shape);
  t.dataSync().fill(value);
  return t;
}

export interface RandnOptions {
  /** Seed of the generator: equal seeds give equal tensors. Default: random. */
  seed?: number;
  mean?: number;
  std?: number;
}

/** Normally distributed values, deterministic for a given seed. */
export function randn<T extends readonly number[]>(shape: readonly [...T], options: RandnOptions = {}): Tensor<ShapeOf<T>> {
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const { seed, mean = 0, std = 1 } = options;
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
    throw invalidType('seed', 'an integer', seed);
  }
  if (typeof mean !== 'number' || !Number.isFinite(mean)) throw invalidValue('mean', 'a finite number', mean);
  if (typeof std !== 'number' || !Number.isFinite(std) || std < 0) throw invalidValue('std', 'a finite non-negative number', std);
  const t = zeros(shape);
  const rng = new Rng(seed ?? Math.floor(Math.random() * 2 ** 32));
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
  return t;
}
