// TypeScript mirror of every export of the native CPU addon
// (native/napi/addon.cc and conv_plan_wrap.h). Keep the two in step.

export interface NativeConvPlanOptions {
  groups: number;
  stride: [number, number];
  dilation: [number, number];
  /** [top, left, bottom, right] */
  padding: [number, number, number, number];
  activation: 'none' | 'relu';
  /** Highest ISA the plan may use. */
  isa?: 'scalar' | 'avx2' | 'avx512';
  /** Force one implementation by name (tests). */
  impl?: string;
  /** 'direct' skips transformed implementations (Winograd). */
  algorithm?: 'auto' | 'direct';
}

export interface NativeConvPlanInfo {
  impl: string;
  isa: string;
  /** "name: reason" for each higher-priority implementation that was skipped. */
  fallbacks: string[];
  packedBytes: number;
  /** Set when a run may compute differently from what impl says, chosen per input size (N, H, W). */
  perRun?: string;
}

export interface NativeConvPlan {
  run(input: Float32Array, inputShape: number[], output: Float32Array, residual: Float32Array | null): void;
  runAsync(input: Float32Array, inputShape: number[], output: Float32Array, residual: Float32Array | null): Promise<void>;
  info(): NativeConvPlanInfo;
  /** Frees the packed weights now; later calls throw ERR_RESNEXT_DISPOSED. */
  dispose(): void;
}

export interface NativeCpuInfo {
  brand: string;
  /**
   * CPUID's vendor ('GenuineIntel', 'AuthenticAMD') and display family / model / stepping, as /proc/cpuinfo's
   * "cpu family" and "model" (0 where unknown, e.g. not x86; absent in an older build): the brand alone may not
   * tell two generations apart (a VM can report just "AMD EPYC").
   */
  vendor?: string;
  family?: number;
  model?: number;
  stepping?: number;
  best: 'scalar' | 'avx2' | 'avx512';
  cap: 'scalar' | 'avx2' | 'avx512';
  features: Record<string, boolean>;
  threads: number;
  hardwareThreads: number;
  /**
   * The glibc malloc thresholds the addon set when it loaded, so that freed outputs are reused instead of
   * page-faulted back in (native/include/resnext/malloc_policy.h); absent in an older build.
   */
  allocator?: { tuned: boolean; reason: string; mmapThreshold: number; trimThreshold: number };
}

export interface NativeCpuBinding {
  ConvPlan: new (weight: Float32Array, weightShape: number[], bias: Float32Array | null, options: NativeConvPlanOptions) => NativeConvPlan;
  cpuInfo(): NativeCpuInfo;
  setNumThreads(n: number): number;
  getNumThreads(): number;
  setIsaCap(isa: string): string;
  /** Elements from a's start to its first element at a multiple of `bytes` (optional: an older build lacks it). */
  alignOffset?(a: Float32Array, bytes: number): number;
  /**
   * Same length and bit for bit the same elements, split over the environment's pool from 256 KiB (it waits
   * for the pool: synchronous callers only); optional: an older build lacks it.
   */
  sameBytes?(a: Float32Array, b: Float32Array): boolean;
  // Inference layers (native/napi/*_wrap.cc); optional so an older build falls back to TS loops.
  /** params: [kh, kw, sh, sw, ph, pw] */
  /** layouts: [cbIn, cbOut] (default [0, 0]): 0 NCHW, 8 or 16 the blocked layout; NCHW->NCHW, NCHW->blocked, blocked->blocked. */
  maxPool2d?(input: Float32Array, shape: number[], output: Float32Array, params: number[], layouts?: number[]): void;
  maxPool2dAsync?(input: Float32Array, shape: number[], output: Float32Array, params: number[], layouts?: number[]): Promise<void>;
  /** params: [kh, kw, sh, sw, pt, pl, pb, pr, P, Q, countIncludePad (0 or 1)] */
  avgPool2d?(input: Float32Array, shape: number[], output: Float32Array, params: number[]): void;
  avgPool2dAsync?(input: Float32Array, shape: number[], output: Float32Array, params: number[]): Promise<void>;
  /** cb (default 0): 0 for an NCHW input, 8 or 16 for the blocked layout. */
  globalAvgPool?(input: Float32Array, shape: number[], output: Float32Array, cb?: number): void;
  globalAvgPoolAsync?(input: Float32Array, shape: number[], output: Float32Array, cb?: number): Promise<void>;
  linear?(
    input: Float32Array,
    shape: number[],
    weight: Float32Array,
    weightShape: number[],
    bias: Float32Array | null,
    output: Float32Array,
  ): void;
  linearAsync?(
    input: Float32Array,
    shape: number[],
    weight: Float32Array,
    weightShape: number[],
    bias: Float32Array | null,
    output: Float32Array,
  ): Promise<void>;
  /** Whole-network layer programs (native/napi/network_wrap.cc). */
  Network?: new (convs: NativeNetworkConv[]) => NativeNetwork;
}

export interface NativeNetworkConv {
  weight: Float32Array;
  /** [K]: the weights are packed as weight[k] * weightScale[k] (BatchNorm folded while packing). */
  weightScale?: Float64Array;
  shape: number[];
  bias: Float32Array | null;
  groups: number;
  stride: [number, number];
  /** [top, left, bottom, right] */
  padding: [number, number, number, number];
  activation: 'none' | 'relu';
  algorithm?: 'auto' | 'direct';
  /**
   * Convs sharing a group number run in the blocked layout all together or not at all: packed for their
   * blocked kernels when one runs each of them (info()[i].blocked says whether it did).
   */
  blockedGroup?: number;
  /**
   * Also pack the direct plan where the conv's plan is transformed (Winograd): NCHW (or the rival row its kernel names,
   * ConvImpl::alternate: winograd43_otf_avx512 for winograd_grouped_avx512's dense 128+ channel convs), or for a
   * blocked conv the blocked direct kernel of the same block size when there is one (info()[i].alternate).
   */
  alternate?: boolean;
}

/** input null: the program input x. Blocked buffers hold N * ceil(C / cb) * cb * H * W floats; inputShape stays NCHW. */
export type NativeNetworkStep =
  | {
      op: 'conv';
      conv: number;
      input: Float32Array | null;
      inputShape: number[];
      output: Float32Array;
      residual: Float32Array | null;
      /** Run the conv's alternate plan (direct, or its kernel's named rival) instead of its first choice. */
      alternate?: boolean;
    }
  | {
      op: 'blockedConv';
      conv: number;
      input: Float32Array | null;
      inputShape: number[];
      output: Float32Array;
      residual: Float32Array | null;
      cb: number;
      /** Run the conv's alternate (blocked direct) plan instead of its first choice. */
      alternate?: boolean;
    }
  | { op: 'toBlocked' | 'fromBlocked'; input: Float32Array | null; inputShape: number[]; output: Float32Array; cb: number }
  /** cbIn / cbOut: absent or 0 NCHW, else the network's block size (NCHW->blocked or blocked->blocked). */
  | {
      op: 'maxPool2d';
      input: Float32Array | null;
      inputShape: number[];
      output: Float32Array;
      params: number[];
      cbIn?: number;
      cbOut?: number;
    }
  /** cb: a blocked input (the network's block size). */
  | { op: 'globalAvgPool'; input: Float32Array | null; inputShape: number[]; output: Float32Array; cb?: number }
  | {
      op: 'linear';
      input: Float32Array | null;
      inputShape: number[];
      weight: Float32Array;
      weightShape: number[];
      bias: Float32Array | null;
      output: Float32Array;
    };

export interface NativeNetwork {
  addProgram(steps: NativeNetworkStep[], inputLength: number): number;
  /** timings: one element per step, filled with each step's wall time in nanoseconds. */
  run(program: number, x: Float32Array, timings?: Float64Array): void;
  runAsync(program: number, x: Float32Array, timings?: Float64Array): Promise<void>;
  dropProgram(program: number): void;
  /** Frees the packed weights and programs now instead of at garbage collection. */
  dispose(): void;
  info(): {
    impl: string;
    isa: string;
    packedBytes: number;
    /** The conv's blocked kernel (then also impl), when it was packed for one. */
    blocked: { impl: string; cb: number } | null;
    /** The alternate plan also packed (conv spec `alternate`: direct, or the kernel's named rival), or null. */
    alternate: { impl: string; isa: string; packedBytes: number } | null;
    /** Whether a step of this conv may write its output over its residual (the same view): its kernels allow it. */
    residualInPlace: boolean;
  }[];
}
