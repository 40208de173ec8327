// The backend contract. A backend turns resolved convolution hyperparameters
// and weights into a prepared kernel (create once, run many); ops in lib/ops
// validate arguments before they reach a backend.

import type { ConvSpec, Shape4 } from '../shape';
import type { Device, Tensor } from '../tensor';

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

export interface Backend {
  readonly name: BackendName;
  /** Higher is preferred when the caller names no backend. */
  readonly priority: number;
  /** Device whose tensors this backend computes on. */
  readonly device: Device;
  status(): BackendStatus;
  prepareConv2d(weight: Tensor<Shape4>, bias: Tensor | null, spec: ConvSpec, options?: PrepareOptions): PreparedConv2d;
}
