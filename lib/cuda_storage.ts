// Device memory behind a Tensor on 'cuda'. A rank-4 tensor is stored NHWC (the
// layout our kernels and cuDNN read) with its logical [N, C, H, W] recorded in
// `nhwc`; anything else is stored dense in row-major order. readSync()/read()
// always return float32 in the tensor's logical (NCHW, row-major) order, so a
// reshaped view of the same storage reads correctly too. Element types on the
// device: float32, float16, bfloat16.

import { cudaBinding, loadCudaBinding } from './binding';
import { DTYPE_CODES, type NativeDeviceBuffer, type NativeDims } from './cuda_types';
import { ERROR_CODES, ResnextError } from './errors';
import type { Shape } from './shape';
import type { DType, TensorStorage } from './tensor';

function binding() {
  const b = cudaBinding();
  if (!b) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, `The cuda device is unavailable: ${loadCudaBinding().reason}`);
  return b;
}

function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class CudaStorage implements TensorStorage {
  readonly device = 'cuda' as const;
  #buffer: NativeDeviceBuffer | null;

  /** Use CudaStorage.empty/fromHost. */
  constructor(
    buffer: NativeDeviceBuffer,
    readonly dtype: DType,
    /** The logical [N, C, H, W] when stored NHWC, else null (dense row-major). */
    readonly nhwc: NativeDims,
  ) {
    this.#buffer = buffer;
  }

  /** Uninitialised device memory for a tensor of `shape` (rank 4: NHWC). */
  static empty(shape: Shape, dtype: DType): CudaStorage {
    const b = binding();
    const buf = new b.DeviceBuffer(sizeOf(shape), DTYPE_CODES[dtype]);
    return new CudaStorage(buf, dtype, shape.length === 4 ? ([...shape] as NativeDims) : null);
  }

  /** A device copy of host float32 data in row-major order, converted to dtype. */
  static fromHost(data: Float32Array, shape: Shape, dtype: DType): CudaStorage {
    const s = CudaStorage.empty(shape, dtype);
    s.buffer.upload(data, s.nhwc);
    return s;
  }

  get buffer(): NativeDeviceBuffer {
    if (!this.#buffer) throw new TypeError('Expected a live tensor but received a disposed tensor');
    return this.#buffer;
  }

  get elements(): number {
    return this.buffer.elements;
  }

  /** A new storage with the same elements and layout in another element type. */
  convert(dtype: DType): CudaStorage {
    const b = binding();
    const buf = new b.DeviceBuffer(this.elements, DTYPE_CODES[dtype]);
    buf.copyFrom(this.buffer, 'convert', null);
    return new CudaStorage(buf, dtype, this.nhwc);
  }

  /**
   * The buffer holding these elements as NHWC for the logical shape `shape`
   * (rank 4). Our own storage when it already is; else a temporary that the
   * caller disposes once the work using it is enqueued (frees are ordered on
   * the GPU stream, so that is safe).
   */
  nhwcFor(shape: readonly number[]): { buffer: NativeDeviceBuffer; temporary: boolean } {
    if (this.nhwc && shape.length === 4 && this.nhwc.every((d, i) => d === shape[i])) return { buffer: this.buffer, temporary: false };
    const b = binding();
    const code = DTYPE_CODES[this.dtype];
    let dense = this.buffer;
    let denseTemp = false;
    if (this.nhwc) {
      dense = new b.DeviceBuffer(this.elements, code);
      dense.copyFrom(this.buffer, 'toNchw', this.nhwc);
      denseTemp = true;
    }
    const out = new b.DeviceBuffer(this.elements, code);
    out.copyFrom(dense, 'toNhwc', [...shape] as NativeDims);
    if (denseTemp) dense.dispose();
    return { buffer: out, temporary: true };
  }

  readSync(): Float32Array {
    return this.buffer.download(this.nhwc);
  }

  read(): Promise<Float32Array> {
    try {
      return this.buffer.downloadAsync(this.nhwc);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  dispose(): void {
    if (this.#buffer) this.#buffer.dispose();
    this.#buffer = null;
  }
}
