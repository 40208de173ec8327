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
}

export interface NativeConvPlanInfo {
  impl: string;
  isa: string;
  /** "name: reason" for each higher-priority implementation that was skipped. */
  fallbacks: string[];
  packedBytes: number;
}

export interface NativeConvPlan {
  run(input: Float32Array, inputShape: number[], output: Float32Array, residual: Float32Array | null): void;
  runAsync(input: Float32Array, inputShape: number[], output: Float32Array, residual: Float32Array | null): Promise<void>;
  info(): NativeConvPlanInfo;
}

export interface NativeCpuInfo {
  brand: string;
  best: 'scalar' | 'avx2' | 'avx512';
  cap: 'scalar' | 'avx2' | 'avx512';
  features: Record<string, boolean>;
  threads: number;
  hardwareThreads: number;
}

export interface NativeCpuBinding {
  ConvPlan: new (
    weight: Float32Array,
    weightShape: number[],
    bias: Float32Array | null,
    options: NativeConvPlanOptions,
  ) => NativeConvPlan;
  cpuInfo(): NativeCpuInfo;
  setNumThreads(n: number): number;
  getNumThreads(): number;
  setIsaCap(isa: string): string;
  // Inference layers (native/napi/*_wrap.cc); optional so an older build falls back to TS loops.
  /** params: [kh, kw, sh, sw, ph, pw] */
  maxPool2d?(input: Float32Array, shape: number[], output: Float32Array, params: number[]): void;
  maxPool2dAsync?(input: Float32Array, shape: number[], output: Float32Array, params: number[]): Promise<void>;
  globalAvgPool?(input: Float32Array, shape: number[], output: Float32Array): void;
  globalAvgPoolAsync?(input: Float32Array, shape: number[], output: Float32Array): Promise<void>;
  linear?(input: Float32Array, shape: number[], weight: Float32Array, weightShape: number[], bias: Float32Array | null, output: Float32Array): void;
  linearAsync?(
    input: Float32Array,
    shape: number[],
    weight: Float32Array,
    weightShape: number[],
    bias: Float32Array | null,
    output: Float32Array,
  ): Promise<void>;
}
