// TypeScript mirror of every export of the CUDA addon (build*/Release/
// resnext_cuda.node, native/napi/cuda/). Keep the two in step; abiVersion is
// bumped whenever an export changes shape.

/** The addon's ABI that this TS layer speaks (native/napi/cuda/addon.cc). */
export const CUDA_ABI_VERSION = 2;

/** Element type codes shared with native/cuda/dtype.h. */
export const DTYPE_CODES = { float32: 0, float16: 1, bfloat16: 2 } as const;

export interface NativeCudaDevice {
  name: string;
  computeCapability: string;
  multiprocessors: number;
  totalMemory: number;
}

export interface NativeCudnnProbe {
  compiled: boolean;
  loaded: boolean;
  version?: number;
  headerVersion?: number;
  library?: string;
  reason?: string;
}

export interface NativeCudaProbe {
  ok: boolean;
  driverFound: boolean;
  driverVersion: number;
  runtimeVersion: number;
  deviceCount: number;
  reason?: string;
  devices: NativeCudaDevice[];
  cudnn: NativeCudnnProbe;
}

export interface NativeCudaMemory {
  bytesInUse: number;
  peakBytes: number;
  allocations: number;
}

/** [N, C, H, W] of a rank-4 tensor stored NHWC, or null for dense row-major. */
export type NativeDims = [number, number, number, number] | null;

export interface NativeDeviceBuffer {
  readonly elements: number;
  readonly bytes: number;
  readonly dtype: number;
  upload(data: Float32Array, dims: NativeDims): void;
  download(dims: NativeDims): Float32Array;
  downloadAsync(dims: NativeDims): Promise<Float32Array>;
  copyFrom(src: NativeDeviceBuffer, mode: 'convert' | 'toNhwc' | 'toNchw', dims: NativeDims): void;
  dispose(): void;
}

export interface NativeCudaConvPlanOptions {
  groups: number;
  stride: [number, number];
  dilation: [number, number];
  /** [top, left, bottom, right] */
  padding: [number, number, number, number];
  activation: 'none' | 'relu';
  dtype: number;
  impl: 'cuda' | 'cudnn';
  /**
   * 'cuda' only: force one kernel by name ('grouped_mma_pipe', 'grouped_mma', 'grouped_vec4', 'grouped_direct') for
   * every batch, for testing each path. By default the plan picks the best kernel for its shape and, for float16 /
   * bfloat16 ResNeXt shapes, grouped_mma_pipe for runs of batch >= 8 (info().detail says so).
   */
  kernel?: string;
}

export interface NativeCudaConvPlanInfo {
  impl: string;
  detail: string;
  dtype: string;
  packedBytes: number;
}

export interface NativeCudaConvPlan {
  run(x: NativeDeviceBuffer, xShape: number[], out: NativeDeviceBuffer, residual: NativeDeviceBuffer | null): void;
  runAsync(x: NativeDeviceBuffer, xShape: number[], out: NativeDeviceBuffer, residual: NativeDeviceBuffer | null): Promise<void>;
  info(): NativeCudaConvPlanInfo;
  dispose(): void;
}

/** A captured CUDA graph (native/napi/cuda/graph.cc): replays the captured work. */
export interface NativeCudaGraph {
  launch(): void;
  launchAsync(): Promise<void>;
  dispose(): void;
}

export interface NativeCudaBinding {
  abiVersion: number;
  probe(): NativeCudaProbe;
  memory(): NativeCudaMemory;
  resetPeakMemory(): void;
  synchronize(): void;
  synchronizeAsync(): Promise<void>;
  /** With `parent`: a view of parent's first `elements` (same dtype), owning nothing. */
  DeviceBuffer: new (elements: number, dtype: number, parent?: NativeDeviceBuffer) => NativeDeviceBuffer;
  /** NHWC max pool; params [kH, kW, strideH, strideW, padH, padW]. Enqueues only. */
  maxPool2d(x: NativeDeviceBuffer, xShape: number[], out: NativeDeviceBuffer, params: number[]): void;
  /** NHWC [N, C, H, W] -> [N, C]. Enqueues only. */
  globalAvgPool(x: NativeDeviceBuffer, xShape: number[], out: NativeDeviceBuffer): void;
  /** out [N, M] = x [N, C] * weight^T + bias; weight [M, C] and bias float32. Enqueues only. */
  linear(
    x: NativeDeviceBuffer,
    xShape: [number, number],
    weight: NativeDeviceBuffer,
    bias: NativeDeviceBuffer | null,
    out: NativeDeviceBuffer,
    outFeatures: number,
  ): void;
  /** Starts capturing the stream into a CUDA graph (waits for queued work first). */
  beginCapture(): void;
  /** Ends the capture (always call it after beginCapture) and returns the instantiated graph. */
  endCapture(): NativeCudaGraph;
  CudaConvPlan: new (
    weight: Float32Array,
    weightShape: number[],
    bias: Float32Array | null,
    options: NativeCudaConvPlanOptions,
  ) => NativeCudaConvPlan;
}
