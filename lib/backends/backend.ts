// The backend contract. A backend turns resolved convolution hyperparameters
// and weights into a prepared kernel (create once, run many); ops in lib/ops
// validate arguments before they reach a backend.

import type { NetworkLowering } from '../models/engine';
import type { FusedNetwork } from '../models/plan';
import type { ConvSpec, Shape4 } from '../shape';
import type { Device, DType, Tensor } from '../tensor';
import type { CpuLayout, ForwardMode } from './cpu_network';
import type { DenseConvImpl } from './cuda_network';

export type BackendName = 'reference' | 'cpu' | 'cuda' | 'cudnn';

export interface BackendStatus {
  available: boolean;
  /** Why the backend cannot be used; present whenever available is false. */
  reason?: string;
}

/** What a prepared convolution runs: backend, kernel, and why faster kernels were skipped. */
export interface Conv2dPlanInfo {
  backend: BackendName;
  /** The implementation (kernel) that runs. */
  impl: string;
  /** The instruction set the cpu kernel uses ('scalar', 'avx2', 'avx512'). */
  isa?: string;
  /** "name: reason" for each higher-priority implementation that was skipped. */
  fallbacks?: string[];
  /** Bytes of packed weights the plan holds. */
  packedBytes?: number;
  /** Set when a run may compute differently from impl, chosen per input size. */
  perRun?: string;
  /** conv2dPlan's measured kernel choice (tune: true): candidates, timings per input shape, the latest choice. */
  tuning?: { enabled: boolean; [detail: string]: unknown };
  /** Backend-specific details. */
  [detail: string]: unknown;
}

export interface PreparedConv2d {
  /** Implementation details for diagnostics (kernel name, ISA, fallbacks). */
  info(): Conv2dPlanInfo;
  /** out = act(conv(x) + bias + residual), shapes already validated. */
  run(x: Tensor<Shape4>, out: Tensor<Shape4>, residual: Tensor<Shape4> | null): void;
  /** Same, off the event loop where the backend can; resolves when out is written. */
  runAsync(x: Tensor<Shape4>, out: Tensor<Shape4>, residual: Tensor<Shape4> | null): Promise<void>;
  dispose(): void;
}

/** Kernel selection options of prepareConv2d (validated by conv2dPlan). */
export interface PrepareOptions {
  isa?: string;
  impl?: string;
  /** 'direct' excludes transformed algorithms (Winograd). Default 'auto'. */
  algorithm?: 'auto' | 'direct';
}

/** Options of prepareNetwork (validated by the model); each backend reads the ones it has. */
export interface NetworkOptions {
  /** cpu: one native job per forward ('network', the default) or one async call per layer ('layer'). */
  mode?: ForwardMode;
  /** cpu, mode 'network': which stages run in the blocked layout (default 'auto'). */
  layout?: CpuLayout;
  /** cpu: 'direct' excludes transformed algorithms (Winograd). */
  algorithm?: 'auto' | 'direct';
  /** cpu, mode 'network': kernel choice by measurement (default true). */
  tune?: boolean;
  /** GPU: element type of weights and activations on the device. */
  dtype?: DType;
  /** 'cuda': where the ungrouped convs run. */
  denseConvs?: DenseConvImpl;
}

export interface Backend {
  readonly name: BackendName;
  /** Higher is preferred when the caller names no backend. */
  readonly priority: number;
  /** Device whose tensors this backend computes on. */
  readonly device: Device;
  status(): BackendStatus;
  prepareConv2d(weight: Tensor<Shape4>, bias: Tensor | null, spec: ConvSpec, options?: PrepareOptions): PreparedConv2d;
  /**
   * Host backends: whether two arrays hold bit for bit the same elements, as fast as the backend can tell
   * (the cpu backend splits large ones over its thread pool). It may wait for the backend's workers, so only
   * synchronous calls use it. Absent: the caller compares on its own thread.
   */
  sameValues?(a: Float32Array, b: Float32Array): boolean;
  /** A whole network's weights prepared on this backend, ready to lower compiled plans (absent: no fused forward). */
  prepareNetwork?(net: FusedNetwork, options: NetworkOptions): NetworkLowering;
}
