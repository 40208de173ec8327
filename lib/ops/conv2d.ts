// Grouped 2-D convolution: argument validation, then a prepared plan on the
// chosen backend. conv2dPlan() is the create-once, run-many form (weights are
// packed once); conv2d()/conv2dAsync() are one-shot calls over a plan cache
// (conv2d_cache.ts) that reuses the plan while the weights are unchanged.
//
// Layouts: x [N, C, H, W]; weight [K, C/groups, kH, kW]; bias [K];
// output and residual [N, K, P, Q] with P = floor((H + padTop + padBottom -
// dilationH*(kH-1) - 1) / strideH) + 1 (likewise Q).

import type { BackendName, Conv2dPlanInfo, PreparedConv2d } from '../backends/backend';
import { resolveBackend } from '../backends/registry';
import { disposedError, invalidType, invalidValue } from '../errors';
import {
  type ConvSpec,
  convOutputShape,
  isPositiveInteger,
  type Pair,
  type Padding,
  resolvePadding,
  resolvePair,
  type Shape,
  type Shape4,
} from '../shape';
import { checkTensor, emptyLike, Tensor } from '../tensor';
import { KernelTuner } from './conv2d_tune';
import { PlanCache, runThenDispose } from './conv2d_cache';

export interface Conv2dPlanOptions {
  /** Groups: input and output channels split into this many independent convolutions. Default 1. */
  groups?: number;
  /** Default 1. A number or [h, w]. */
  stride?: Pair;
  /** Default 1. A number or [h, w]. */
  dilation?: Pair;
  /** Default 0. A number, [h, w], [top, left, bottom, right] (ONNX order), or {top, left, bottom, right}. */
  padding?: Padding;
  /** Per-output-channel bias [K]. */
  bias?: Tensor | null;
  /** Applied after bias and residual. Default 'none'. */
  activation?: 'none' | 'relu';
  /** Default: the fastest available backend for the tensors' device. */
  backend?: BackendName;
  /** CPU backend only: highest SIMD level ('scalar' | 'avx2' | 'avx512'), for testing each path. */
  isa?: 'scalar' | 'avx2' | 'avx512';
  /** CPU backend only: force one kernel by name, for testing each path. */
  impl?: string;
  /**
   * 'auto' (default): the fastest kernel, which on the cpu backend is Winograd
   * for dense 3x3 stride-1 convs (F(2x2,3x3), 2.25x fewer multiplies), dense 3x3
   * stride-2 convs with C*K <= 2^16 (parity decomposition, 1.44x fewer) and
   * grouped 3x3 stride-1 convs with 14-128 channels per group (F(4x4,3x3) or
   * F(2x2,3x3)); different rounding, same error bound as direct convolution
   * (see the README).
   * 'direct': direct convolution only (every product of the definition), e.g.
   * to compare architectures at equal multiply counts. The reference and cuda
   * backends are always direct; cudnn picks its own algorithm and refuses 'direct'.
   */
  algorithm?: ConvAlgorithm;
  /**
   * cpu backend, algorithm 'auto': where a Winograd kernel competes with direct
   * convolution, time both on each new input shape and run the faster (the
   * winner is kept per shape for the process; see info().tuning). Default
   * false: the cost model's choice, the same on every run and machine (and the
   * same kernels as a model's native network program).
   */
  tune?: boolean;
}

export type ConvAlgorithm = 'auto' | 'direct';

export interface Conv2dRunOptions {
  /** Write the result here (shape [N, K, P, Q]) instead of allocating: no allocation on the hot path. */
  out?: Tensor;
  /** Added to the convolution (with bias) before the activation; shape [N, K, P, Q]. */
  residual?: Tensor;
}

export type Conv2dOptions = Conv2dPlanOptions & Conv2dRunOptions;

const PLAN_KEYS = new Set([
  'groups',
  'stride',
  'dilation',
  'padding',
  'bias',
  'activation',
  'backend',
  'isa',
  'impl',
  'algorithm',
  'tune',
  'out',
  'residual',
]);

function checkOptions(options: unknown, param: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(param, 'an options object', options);
  for (const key of Object.keys(options)) {
    if (!PLAN_KEYS.has(key)) throw invalidValue(`${param}.${key}`, `one of the options ${[...PLAN_KEYS].join(', ')}`, key);
  }
  return options as Record<string, unknown>;
}

function checkRank4(t: Tensor, param: string, what: string): Tensor<Shape4> {
  if (t.shape.length !== 4) throw invalidValue(`${param}.shape`, `a rank-4 shape ${what}`, t.shape);
  return t as Tensor<Shape4>;
}

/**
 * A tensor typed rank 4 ([N, C, H, W] or [K, C/groups, kH, kW]), or one whose
 * rank is only known at run time (checked then, with a RangeError). A tensor
 * typed with another rank is a compile-time error.
 */
export type Rank4Tensor<S extends Shape = Shape4> = Tensor<S> &
  (number extends S['length'] ? unknown : S extends Shape4 ? unknown : { readonly 'Expected a rank-4 tensor': never });

/** A prepared convolution: weights validated and packed once, run many times. */
export class Conv2dPlan {
  readonly weightShape: Shape4;
  readonly spec: Readonly<ConvSpec>;
  readonly backend: BackendName;
  #prepared: PreparedConv2d | null;
  #device: Tensor['device'];

  #tuner: KernelTuner | null;

  /** Use conv2dPlan(). */
  constructor(weight: Tensor<Shape4>, prepared: PreparedConv2d, spec: ConvSpec, backend: BackendName, tuner: KernelTuner | null = null) {
    this.weightShape = weight.shape;
    this.spec = Object.freeze({ ...spec });
    this.backend = backend;
    this.#prepared = prepared;
    this.#device = weight.device;
    this.#tuner = tuner;
  }

  /** Input channels the plan expects: weight.shape[1] * groups. */
  get inChannels(): number {
    return this.weightShape[1] * this.spec.groups;
  }

  get outChannels(): number {
    return this.weightShape[0];
  }

  /** The output shape for an input shape (throws RangeError when the kernel does not fit). */
  outputShape(inputShape: Shape4): [number, number, number, number] {
    return convOutputShape(inputShape, this.weightShape, this.spec);
  }

  /** Backend and kernel details: which implementation runs and why others were skipped. */
  info(): Conv2dPlanInfo {
    const tuner = this.#tuner;
    if (!tuner) return { ...this.prepared.info(), tuning: { enabled: false } };
    // The kernel of the latest run (the cost model's choice before any run), and every measured choice.
    const t = tuner.info();
    const base = this.prepared.info();
    return { ...base, ...(t.last ? { impl: t.last.chosen } : {}), tuning: t };
  }

  private get prepared(): PreparedConv2d {
    if (!this.#prepared) throw disposedError('Conv2dPlan');
    return this.#prepared;
  }

  private bind(x: unknown, options: unknown): { x: Tensor<Shape4>; out: Tensor<Shape4>; residual: Tensor<Shape4> | null } {
    if (!this.#prepared) throw disposedError('Conv2dPlan');
    const xt = checkRank4(checkTensor(x, 'x'), 'x', '[N, C, H, W]');
    const o = checkOptions(options, 'options');
    if (xt.device !== this.#device) throw invalidValue('x.device', `'${this.#device}' (the weight's device)`, xt.device);
    if (xt.shape[1] !== this.inChannels) {
      throw new RangeError(
        `Expected ${this.inChannels} input channels (weight.shape[1] ${this.weightShape[1]} x groups ${this.spec.groups}) for x.shape[1] but received ${xt.shape[1]}`,
      );
    }
    const outShape = convOutputShape(xt.shape, this.weightShape, this.spec);
    let residual: Tensor<Shape4> | null = null;
    if (o.residual !== undefined && o.residual !== null) {
      residual = checkTensor(o.residual, 'residual') as Tensor<Shape4>;
      if (!sameShape(residual.shape, outShape))
        throw invalidValue('residual.shape', `the output shape [${outShape.join(', ')}]`, residual.shape);
      if (residual.device !== this.#device) throw invalidValue('residual.device', `'${this.#device}'`, residual.device);
    }
    let out: Tensor<Shape4>;
    if (o.out !== undefined && o.out !== null) {
      out = checkTensor(o.out, 'out') as Tensor<Shape4>;
      if (!sameShape(out.shape, outShape)) throw invalidValue('out.shape', `the output shape [${outShape.join(', ')}]`, out.shape);
      if (out.device !== this.#device) throw invalidValue('out.device', `'${this.#device}'`, out.device);
      if (out.storage === xt.storage)
        throw new RangeError('Expected an out tensor that does not share memory with x but received x itself');
    } else {
      out = emptyLike(outShape, xt);
    }
    return { x: xt, out, residual };
  }

  /** out = activation(conv(x) + bias + residual). Synchronous: blocks the event loop while it runs. */
  run<S extends Shape = Shape4>(x: Rank4Tensor<S>, options?: Conv2dRunOptions): Tensor<Shape4> {
    const b = this.bind(x, options);
    // An empty batch has nothing to compute: no backend call.
    if (b.x.shape[0] === 0) return b.out;
    const p = this.#tuner ? this.#tuner.pick(b.x, b.out, b.residual) : this.prepared;
    p.run(b.x, b.out, b.residual);
    return b.out;
  }

  /**
   * Like run(), but native backends compute on a worker thread; the inputs are
   * pinned and must not be written until the promise settles.
   */
  async runAsync<S extends Shape = Shape4>(x: Rank4Tensor<S>, options?: Conv2dRunOptions): Promise<Tensor<Shape4>> {
    const b = this.bind(x, options);
    if (b.x.shape[0] === 0) return b.out;
    const p = this.#tuner ? await this.#tuner.pickAsync(b.x, b.out, b.residual) : this.prepared;
    await p.runAsync(b.x, b.out, b.residual);
    return b.out;
  }

  /** Releases the packed weights now (native backends; a runAsync in flight keeps them until it settles). Idempotent. */
  dispose(): void {
    if (this.#tuner) this.#tuner.dispose();
    else if (this.#prepared) this.#prepared.dispose();
    this.#prepared = null;
    this.#tuner = null;
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The `algorithm` option: undefined means 'auto'. */
export function checkAlgorithm(value: unknown, param: string): ConvAlgorithm {
  if (value === undefined) return 'auto';
  if (typeof value !== 'string') throw invalidType(param, "'auto' or 'direct'", value);
  if (value !== 'auto' && value !== 'direct') throw invalidValue(param, "'auto' or 'direct'", value);
  return value;
}

/** Validates weight and options and prepares a convolution plan on a backend. */
export function conv2dPlan<W extends Shape = Shape4>(weight: Rank4Tensor<W>, options: Conv2dPlanOptions = {}): Conv2dPlan {
  const w = checkRank4(checkTensor(weight, 'weight'), 'weight', '[K, C/groups, kH, kW]');
  const o = checkOptions(options, 'options');
  const groups = o.groups ?? 1;
  if (typeof groups !== 'number') throw invalidType('groups', 'a positive integer', groups);
  if (!isPositiveInteger(groups)) throw invalidValue('groups', 'a positive integer', groups);
  const [K] = w.shape;
  if (K % groups !== 0) throw invalidValue('groups', `a divisor of the output channels weight.shape[0] = ${K}`, groups);
  const spec: ConvSpec = {
    groups,
    stride: resolvePair(o.stride, 'stride', 1),
    dilation: resolvePair(o.dilation, 'dilation', 1),
    padding: resolvePadding(o.padding, 'padding'),
    activation: 'none',
  };
  if (o.activation !== undefined) {
    if (o.activation !== 'none' && o.activation !== 'relu') throw invalidValue('activation', "'none' or 'relu'", o.activation);
    spec.activation = o.activation;
  }
  if (K === 0) throw invalidValue('weight.shape[0]', 'a positive number of output channels', K);
  let bias: Tensor | null = null;
  if (o.bias !== undefined && o.bias !== null) {
    bias = checkTensor(o.bias, 'bias');
    if (bias.size !== K || bias.shape.length !== 1) throw invalidValue('bias.shape', `[${K}] (one value per output channel)`, bias.shape);
    if (bias.device !== w.device) throw invalidValue('bias.device', `'${w.device}' (the weight's device)`, bias.device);
  }
  if (o.isa !== undefined && o.isa !== 'scalar' && o.isa !== 'avx2' && o.isa !== 'avx512') {
    throw invalidValue('isa', "'scalar', 'avx2' or 'avx512'", o.isa);
  }
  if (o.impl !== undefined && typeof o.impl !== 'string') throw invalidType('impl', 'a kernel name', o.impl);
  const algorithm = checkAlgorithm(o.algorithm, 'algorithm');
  const backend = resolveBackend(o.backend as string | undefined, w.device);
  if (o.tune !== undefined && typeof o.tune !== 'boolean') throw invalidType('tune', 'a boolean', o.tune);
  const base = { isa: o.isa as string | undefined, impl: o.impl as string | undefined };
  const prepared = backend.prepareConv2d(w, bias, spec, { ...base, algorithm });
  let tuner: KernelTuner | null = null;
  const first = String(prepared.info().impl ?? '');
  if (backend.name === 'cpu' && o.tune === true && algorithm === 'auto' && o.impl === undefined && first.startsWith('winograd')) {
    // The cost model's transformed choice against the best direct kernel.
    let direct: PreparedConv2d;
    try {
      direct = backend.prepareConv2d(w, bias, spec, { ...base, algorithm: 'direct' });
    } catch (err) {
      prepared.dispose();
      throw err;
    }
    const key = JSON.stringify([w.shape, spec, o.isa ?? '', bias !== null]);
    tuner = new KernelTuner(
      [
        { impl: first, prepared },
        { impl: String(direct.info().impl ?? ''), prepared: direct },
      ],
      key,
    );
  }
  return new Conv2dPlan(w, prepared, spec, backend.name, tuner);
}

function checkGroupsDivideInput(x: unknown, weight: unknown, options: Conv2dOptions | undefined): void {
  // Name the most specific problem first: unknown options, channels vs groups, then weight vs input.
  checkOptions(options, 'options');
  const xt = checkRank4(checkTensor(x, 'x'), 'x', '[N, C, H, W]');
  const w = checkRank4(checkTensor(weight, 'weight'), 'weight', '[K, C/groups, kH, kW]');
  const groups = options && typeof options === 'object' ? (options.groups ?? 1) : 1;
  if (typeof groups === 'number' && isPositiveInteger(groups)) {
    const C = xt.shape[1];
    if (C % groups !== 0) throw invalidValue('groups', `a divisor of the input channels x.shape[1] = ${C}`, groups);
    if (w.shape[1] * groups !== C) {
      throw new RangeError(
        `Expected weight.shape[1] = x.shape[1] / groups = ${C / groups} for weight but received shape [${w.shape.join(', ')}]`,
      );
    }
  }
}

function splitOptions(options: Conv2dOptions | undefined): [Conv2dPlanOptions, Conv2dRunOptions] {
  const o = checkOptions(options, 'options') as Conv2dOptions;
  const { out, residual, ...plan } = o;
  return [plan, { out, residual }];
}

/** Plans of one-shot calls, reused while the weight and bias values are unchanged (see conv2d_cache.ts). */
const oneShotPlans = new PlanCache<Conv2dPlan>();

/** The one-shot plan cache, for tests and diagnostics: stats() and clear(). */
export function oneShotPlanCache(): Pick<PlanCache<Conv2dPlan>, 'stats' | 'clear' | 'lastOutcome'> {
  return oneShotPlans;
}

/**
 * Runs a one-shot conv through a cached prepared plan where the cache applies
 * (host tensors, cpu backend); else prepares, runs and disposes a plan.
 */
function withOneShotPlan<R>(x: Tensor, weight: Tensor, planOpts: Conv2dPlanOptions, sync: boolean, use: (plan: Conv2dPlan) => R): R {
  const cacheable = cacheKey(x, weight, planOpts);
  if (cacheable === null) return runThenDispose(conv2dPlan(weight, planOpts), use);
  const bias = (planOpts.bias as Tensor | null | undefined) ?? null;
  // Only a synchronous call may compare on the backend's pool (conv2d_cache.ts); cacheKey() resolved it.
  const backend = resolveBackend(planOpts.backend as string | undefined, 'cpu');
  const same = sync && backend.sameValues ? (a: Float32Array, b: Float32Array) => backend.sameValues!(a, b) : undefined;
  return oneShotPlans.use(weight, bias, cacheable, () => conv2dPlan(weight, planOpts), use, same);
}

/** The cache key of a one-shot call, or null when the call is not cached. */
function cacheKey(x: Tensor, weight: Tensor, o: Conv2dPlanOptions): string | null {
  if (weight.device !== 'cpu' || x.device !== 'cpu') return null;
  if (o.bias !== undefined && o.bias !== null && !(o.bias instanceof Tensor && !o.bias.isDisposed && o.bias.device === 'cpu')) return null;
  try {
    if (resolveBackend(o.backend as string | undefined, 'cpu').name !== 'cpu') return null;
  } catch {
    // Invalid options: the uncached path reports them.
    return null;
  }
  const key = JSON.stringify([
    weight.shape,
    o.groups ?? 1,
    o.stride ?? 1,
    o.dilation ?? 1,
    o.padding ?? 0,
    o.activation ?? 'none',
    o.backend ?? '',
    o.isa ?? '',
    o.impl ?? '',
    o.algorithm ?? 'auto',
    o.tune ?? false,
    o.bias ? 'bias' : '',
  ]);
  return key;
}

/**
 * Grouped 2-D convolution, synchronously. Inputs are [N, C, H, W] and
 * [K, C/groups, kH, kW]; the result is [N, K, P, Q].
 *
 * One-shot, but not re-prepared each call: on the cpu backend the prepared
 * plan (packed weights) is kept for the weight array and reused while the
 * weight and bias values are unchanged (checked exactly on every call); it
 * is the plan conv2dPlan() makes, so equal calls give equal bits.
 */
export function conv2d<S extends Shape = Shape4, W extends Shape = Shape4>(
  x: Rank4Tensor<S>,
  weight: Rank4Tensor<W>,
  options?: Conv2dOptions,
): Tensor<Shape4> {
  checkGroupsDivideInput(x, weight, options);
  const [planOpts, runOpts] = splitOptions(options);
  return withOneShotPlan(x, weight, planOpts, true, (plan) => plan.run(x, runOpts));
}

/**
 * conv2d off the event loop: native backends run on a worker thread and the
 * promise resolves with the result. Many calls may be in flight at once.
 * Shares conv2d()'s plan cache; x, weight and bias must not be written until
 * the promise settles.
 */
export async function conv2dAsync<S extends Shape = Shape4, W extends Shape = Shape4>(
  x: Rank4Tensor<S>,
  weight: Rank4Tensor<W>,
  options?: Conv2dOptions,
): Promise<Tensor<Shape4>> {
  checkGroupsDivideInput(x, weight, options);
  const [planOpts, runOpts] = splitOptions(options);
  return withOneShotPlan(x, weight, planOpts, false, (plan) => plan.runAsync(x, runOpts));
}
