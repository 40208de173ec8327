// A ResNeXt (or ResNet) model: the architecture, its weights as torchvision
// names them, complexity accounting without running it, and forward on every
// host backend. The weights live in one Map<string, Tensor> in torchvision's
// state-dict order; the fused engine (engine.ts: one compiled plan per input
// shape, lowered by the backend) is prepared from them on first use and
// dropped whenever the weights may have changed.

import type { Backend, BackendName, NetworkOptions } from '../backends/backend';
import type { CpuLayout, ForwardMode } from '../backends/cpu_network';
import type { DenseConvImpl } from '../backends/cuda_network';
import { backends, resolveBackend } from '../backends/registry';
import { ERROR_CODES, invalidType, invalidValue, ResnextError } from '../errors';
import type { Shape2 } from '../shape';
import { checkTensor, type DType, HostStorage, Tensor } from '../tensor';
import { checkAlgorithm, type ConvAlgorithm } from '../ops/conv2d';
import { type Architecture, buildArchitecture, type ResNeXtConfig, stateSpecs, type TensorSpec } from './architecture';
import { checkInputShape, type LayerComplexity, layerComplexity } from './complexity';
import { forwardUnfused } from './forward_unfused';
import { type ConvPlanInfo, NetworkEngine, type NetworkProfile } from './engine';
import { initialState } from './init';
import { exportOnnx, type ToOnnxOptions } from '../onnx/export';
import { fuseNetwork, releaseConvWeights } from './plan';
import { loadWeightsFile } from '../weights/file';

export type { CpuLayout, ForwardMode, DenseConvImpl };
export type { NetworkProfile, ProfileStep } from './engine';

/** A prepared engine and the settings it was prepared with. */
interface Prepared {
  backend: BackendName;
  options: NetworkOptions;
  engine: NetworkEngine;
}

export interface ForwardOptions {
  /** Default: the fastest available backend ('cpu' when the addon is built, else 'reference'). */
  backend?: BackendName;
  /**
   * Default true on native backends: BN folded into convs, epilogues fused,
   * prepared once. false runs every layer separately and synchronously (the
   * path the reference backend always takes).
   */
  fuse?: boolean;
  /**
   * Fused CPU path only. 'network' (default when the addon has it): the whole
   * forward is one native job on a worker thread. 'layer': one async native
   * call per layer (each conv via Conv2dPlan.runAsync).
   */
  mode?: ForwardMode;
  /**
   * Fused CPU path, mode 'network' only: which convs run in the blocked channel layout (NCHW16c with
   * AVX-512, NCHW8c otherwise). 'auto' (default): those of the stages at 56x56 and 28x28 in ImageNet
   * (layer1, layer2) that have a blocked kernel; 'blocked': those of every stage; 'nchw': none (to
   * compare). Undefined keeps the prepared engine's choice. See docs/engine.md.
   */
  layout?: CpuLayout;
  /**
   * GPU backends only: capture the whole forward into a CUDA graph once per
   * input shape and replay it (batch-1 latency). Default false.
   */
  graph?: boolean;
  /** GPU backends only: element type of weights and activations on the device. Default: x's dtype. */
  dtype?: DType;
  /**
   * Backend 'cuda' only: where the ungrouped convs (stem, 1x1, shortcuts) run; the grouped ones always run
   * on our kernels. 'cuda' (ours) or 'cudnn'. Default: 'cudnn' when the cudnn backend is available (on an
   * H200, resnext50_32x4d ran 2.5x faster at batch 1 and 10x at batch 256 in float16 than with ours for
   * them), else 'cuda'.
   */
  denseConvs?: DenseConvImpl;
  /**
   * Fused CPU path: 'auto' (default) lets 3x3 convs run Winograd where it is
   * faster (see conv2dPlan's `algorithm`); 'direct' keeps every conv a direct convolution, as
   * when comparing architectures at equal multiply counts (the paper's
   * premise). See conv2dPlan's `algorithm`.
   */
  algorithm?: ConvAlgorithm;
  /**
   * Fused CPU path, mode 'network' only: kernel choice by measurement (default true). Where the cost model
   * picked Winograd for a conv, the first forward of each input shape times it against the direct kernel
   * inside the whole forward and keeps the faster (cached for the process; planInfo() reports the timings).
   * false keeps the cost model's choice, the same on every run and machine. Undefined keeps the prepared
   * engine's choice. See docs/engine.md.
   */
  tune?: boolean;
}

/** What model.loadStateDict() matched: keys by torchvision name. */
export interface LoadStateDictResult {
  /** Model weights the map does not hold (left as they were). */
  missing: string[];
  /** Map keys the model has no weight for (ignored). */
  unexpected: string[];
  /** Keys whose shapes differ from the model's (left as they were). */
  mismatched: string[];
}

export interface ModelOptions {
  /** Seed of the Kaiming initialisation (used when no weights are given). Default 0. */
  seed?: number;
  /**
   * Initial weights (torchvision names), checked like loadStateDict: a map, or the path of a `.safetensors`
   * file or a PyTorch checkpoint (read straight into the model, with no second copy).
   */
  weights?: Map<string, Tensor> | string;
}

/** The ungrouped convs of a model on backend 'cuda' go to cuDNN when it is available (see ForwardOptions.denseConvs). */
function defaultDenseConvs(backend: 'cuda' | 'cudnn'): DenseConvImpl {
  if (backend === 'cudnn') return 'cudnn';
  return backends().some((b) => b.name === 'cudnn' && b.available) ? 'cudnn' : 'cuda';
}

export class ResNeXtModel {
  readonly config: Readonly<ResNeXtConfig>;
  readonly architecture: Architecture;
  readonly specs: readonly TensorSpec[];
  #seed: number;
  #stateStore: Map<string, Tensor> | null = null;
  /** The host (cpu) and GPU engines: a model may hold one of each. */
  #engine: Prepared | null = null;
  #cudaEngine: Prepared | null = null;
  #checkedShapes = new Set<string>();

  constructor(config: ResNeXtConfig, options: ModelOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
    const seed = options.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw invalidType('seed', 'an integer', seed);
    this.architecture = buildArchitecture(config);
    this.config = this.architecture.config;
    this.specs = Object.freeze(stateSpecs(this.architecture));
    // Initialised lazily: complexity accounting of a 100M-parameter model needs no weights.
    this.#seed = seed;
    if (options.weights !== undefined) this.loadStateDict(options.weights);
  }

  get #state(): Map<string, Tensor> {
    if (!this.#stateStore) this.#stateStore = initialState(this.specs as TensorSpec[], this.#seed);
    return this.#stateStore;
  }

  /** Learnable parameters as torchvision counts them (BN running statistics are buffers, not counted). */
  numParams(): number {
    return this.specs.reduce((a, s) => (s.kind === 'parameter' ? a + s.shape.reduce((x, y) => x * y, 1) : a), 0);
  }

  /** Multiply-adds of conv and fc layers for an input [N, C, H, W] (the paper's FLOPs), without running the model. */
  macs(inputShape: readonly number[]): number {
    return this.layers(inputShape).reduce((a, l) => a + l.macs, 0);
  }

  /** Per-layer breakdown (shapes, params, multiply-adds) in execution order. */
  layers(inputShape: readonly number[]): LayerComplexity[] {
    return layerComplexity(this.architecture, inputShape);
  }

  /**
   * The weights with torchvision's names and shapes, in torchvision's order.
   * By default the tensors are the model's own (shared memory, no copy);
   * writing them is allowed and takes effect at the next forward (prepared
   * engines are dropped here). With { copy: true } they are copies and the
   * prepared engine is kept (for exporting weights without re-preparing).
   */
  stateDict(options: { copy?: boolean } = {}): Map<string, Tensor> {
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
    if (options.copy) {
      const out = new Map<string, Tensor>();
      for (const [k, t] of this.#state) out.set(k, new Tensor(new HostStorage(t.dataSync().slice()), [...t.shape]));
      return out;
    }
    this.#dropEngine();
    return new Map(this.#state);
  }

  /**
   * Loads weights by torchvision name: a map (its values are copied), or the
   * path of a `.safetensors` file or a PyTorch checkpoint (`.pth`, read with
   * loadTorch), whose tensors become the model's own with no second copy
   * (a forward's peak memory is then the weights once plus their packed
   * form). Keys starting with
   * `module.` (DataParallel checkpoints) are read without that prefix, and
   * torchvision's `*.num_batches_tracked` counters are ignored. Returns the
   * model keys the map lacks (`missing`), the map keys the model lacks
   * (`unexpected`) and the keys whose shapes differ (`mismatched`). strict
   * (default true) throws a RangeError listing the first of each and their
   * counts, loading nothing; strict false loads every key that matches and
   * leaves the others as they were.
   */
  loadStateDict(map: Map<string, Tensor> | string, options: { strict?: boolean } = {}): LoadStateDictResult {
    // A path: the tensors read are the model's own (nobody else holds them), so they are not copied.
    if (typeof map === 'string') return this.#loadStateDict(loadWeightsFile(map, 'stateDict'), options, false);
    return this.#loadStateDict(map, options, true);
  }

  #loadStateDict(map: Map<string, Tensor>, options: { strict?: boolean }, copy: boolean): LoadStateDictResult {
    if (!(map instanceof Map)) throw invalidType('stateDict', 'a Map<string, Tensor> or a file path string', map);
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
    const strict = options.strict ?? true;
    if (typeof strict !== 'boolean') throw invalidType('options.strict', 'a boolean', strict);
    const byName = new Map<string, Tensor>();
    for (const [k, t] of map) {
      if (typeof k !== 'string') throw invalidType('stateDict key', 'a string', k);
      const name = k.startsWith('module.') ? k.slice('module.'.length) : k;
      if (!(t instanceof Tensor) || t.isDisposed)
        throw invalidType(`stateDict.get(${JSON.stringify(k)})`, 'a live Tensor', t instanceof Tensor ? 'a disposed tensor' : t);
      if (t.device !== 'cpu') throw invalidValue(`stateDict.get(${JSON.stringify(k)}).device`, "'cpu' (a host tensor)", t.device);
      if (t.dataSync().length !== t.size)
        throw new RangeError(
          `Expected storage of ${t.size} elements (its shape [${t.shape.join(', ')}]) for stateDict.get(${JSON.stringify(k)}) but received ${t.dataSync().length}`,
        );
      byName.set(name, t);
    }
    const known = new Set(this.specs.map((s) => s.name));
    const missing: string[] = [],
      unexpected: string[] = [],
      mismatched: string[] = [],
      shapes: string[] = [];
    for (const s of this.specs) {
      const t = byName.get(s.name);
      if (t === undefined) missing.push(s.name);
      else if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        mismatched.push(s.name);
        shapes.push(`${s.name} [${t.shape.join(', ')}] (expected [${s.shape.join(', ')}])`);
      }
    }
    for (const k of byName.keys()) if (!known.has(k) && !k.endsWith('.num_batches_tracked')) unexpected.push(k);
    if (strict && missing.length + unexpected.length + mismatched.length > 0) {
      const list = (what: string, items: string[]): string[] =>
        items.length === 0
          ? []
          : [`${items.length} ${what}: ${items.slice(0, 5).join(', ')}${items.length > 5 ? ` and ${items.length - 5} more` : ''}`];
      throw new RangeError(
        `Expected a state dict matching ${this.name} (${this.specs.length} tensors) for stateDict but received one with ${[
          ...list('missing', missing),
          ...list('unexpected', unexpected),
          ...list('with other shapes', shapes),
        ].join('; ')}. Pass { strict: false } to load the keys that match.`,
      );
    }
    this.#dropEngine();
    const skip = new Set([...missing, ...mismatched]);
    const next = new Map<string, Tensor>();
    const current = skip.size > 0 ? this.#state : null;
    for (const s of this.specs) {
      next.set(
        s.name,
        skip.has(s.name)
          ? current!.get(s.name)!
          : copy
            ? new Tensor(new HostStorage(byName.get(s.name)!.dataSync().slice()), [...s.shape])
            : byName.get(s.name)!,
      );
    }
    this.#stateStore = next;
    return { missing, unexpected, mismatched };
  }

  /**
   * The network and its current weights as ONNX ModelProto bytes (opset 17,
   * dynamic batch, height and width unless options fix them): input 'input'
   * [N, 3, H, W], output 'logits' [N, numClasses]. Runs on onnxruntime and loadOnnx.
   */
  toOnnx(options?: ToOnnxOptions): Uint8Array {
    return exportOnnx(this, options);
  }

  /** e.g. 'resnext50_32x4d' */
  get name(): string {
    const c = this.config;
    return c.cardinality === 1 && c.width === 64 && c.depth !== 29 ? `resnet${c.depth}` : `resnext${c.depth}_${c.cardinality}x${c.width}d`;
  }

  /**
   * Logits [N, numClasses] for x [N, 3, H, W]. Native backends run the fused,
   * prepared network off the event loop (one compiled plan per input shape,
   * docs/engine.md); the
   * reference backend computes synchronously before the promise is returned.
   * x must not be written until the promise settles.
   */
  async forward(x: Tensor, options: ForwardOptions = {}): Promise<Tensor<Shape2>> {
    const xt = checkTensor(x, 'x');
    // An empty batch is checked like a batch of one and gives [0, numClasses] without running anything.
    const shape = xt.shape.length === 4 && xt.shape[0] === 0 ? [1, ...xt.shape.slice(1)] : [...xt.shape];
    checkInputShape(shape, this.architecture.stem.inC, 'x.shape');
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
    for (const k of Object.keys(options)) {
      if (
        k !== 'backend' &&
        k !== 'fuse' &&
        k !== 'mode' &&
        k !== 'graph' &&
        k !== 'dtype' &&
        k !== 'denseConvs' &&
        k !== 'algorithm' &&
        k !== 'layout' &&
        k !== 'tune'
      ) {
        throw invalidValue(`options.${k}`, 'one of the options backend, fuse, mode, graph, dtype, denseConvs, algorithm, layout, tune', k);
      }
    }
    const layout = checkLayout(options.layout);
    const tune = checkTune(options.tune);
    if (options.mode !== undefined && options.mode !== 'network' && options.mode !== 'layer')
      throw invalidValue('mode', "'network' or 'layer'", options.mode);
    const algorithm = checkAlgorithm(options.algorithm, 'algorithm');
    // Shape checks walk every layer: once per input shape, not per call.
    const key = shape.join('x');
    if (!this.#checkedShapes.has(key)) {
      layerComplexity(this.architecture, shape);
      this.#checkedShapes.add(key);
    }
    const gpuNamed = options.backend === 'cuda' || options.backend === 'cudnn';
    // A GPU backend takes a host input too (uploaded into the engine's input buffer).
    const backend = resolveBackend(options.backend, gpuNamed ? 'cuda' : xt.device);
    const fuse = options.fuse ?? backend.name !== 'reference';
    if (typeof fuse !== 'boolean') throw invalidType('fuse', 'a boolean', fuse);
    if (options.graph !== undefined && typeof options.graph !== 'boolean') throw invalidType('graph', 'a boolean', options.graph);
    if (xt.shape[0] === 0) return new Tensor(new HostStorage(new Float32Array(0)), [0, this.architecture.numClasses]);
    if (backend.device === 'cuda') {
      const dtype = options.dtype ?? xt.dtype;
      if (!fuse) throw new ResnextError(ERROR_CODES.UNSUPPORTED, `The unfused forward is not implemented on the ${backend.name} backend`);
      if (options.mode !== undefined)
        throw invalidValue('mode', 'no mode on a GPU backend (the forward is enqueued on the GPU stream)', options.mode);
      if (layout !== undefined) throw invalidValue('layout', 'no layout option on a GPU backend (it keeps NHWC)', layout);
      if (tune !== undefined) throw invalidValue('tune', 'no tune option on a GPU backend', tune);
      if (options.algorithm !== undefined)
        throw invalidValue(
          'algorithm',
          'no algorithm option on a GPU backend (backend cuda is always direct; cudnn chooses its own)',
          options.algorithm,
        );
      return (await this.#cudaEngineFor(backend, dtype, options.denseConvs).forward(xt, {
        graph: options.graph ?? false,
      })) as Tensor<Shape2>;
    }
    if (options.graph !== undefined)
      throw invalidValue('graph', 'no graph option on a host backend (CUDA graphs need backend cuda or cudnn)', options.graph);
    if (options.denseConvs !== undefined) throw invalidValue('denseConvs', 'no denseConvs option on a host backend', options.denseConvs);
    if (options.dtype !== undefined && options.dtype !== 'float32')
      throw invalidValue('dtype', "'float32' on a host backend", options.dtype);
    if (backend.name === 'reference' || !fuse) {
      if (backend.name !== 'reference' && backend.name !== 'cpu')
        throw new ResnextError(ERROR_CODES.UNSUPPORTED, `The unfused forward is not implemented on the ${backend.name} backend`);
      return (await forwardUnfused(this.architecture, this.#state, xt, backend.name, algorithm)) as Tensor<Shape2>;
    }
    if (options.mode === 'layer' && layout === 'blocked')
      throw invalidValue('layout', "'auto' or 'nchw' with mode 'layer' (one NCHW kernel call per layer)", layout);
    if (options.mode === 'layer' && tune === true)
      throw invalidValue('tune', "false or nothing with mode 'layer' (kernel choice by measurement times a whole program)", tune);
    return (await this.#hostEngineFor(backend, options.mode, algorithm, layout, tune).forward(xt)) as Tensor<Shape2>;
  }

  /**
   * One fused forward timed step by step (backend 'cpu' only; docs/engine.md): the logits (bit for bit
   * forward's with the same options) and, per step of the compiled plan in order, its wall time inside the
   * native program. Options as forward's: backend, layout, algorithm, tune.
   */
  async profile(
    x: Tensor,
    options: { backend?: BackendName; layout?: CpuLayout; algorithm?: ConvAlgorithm; tune?: boolean } = {},
  ): Promise<NetworkProfile> {
    const xt = checkTensor(x, 'x');
    checkInputShape([...xt.shape], this.architecture.stem.inC, 'x.shape');
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an options object', options);
    for (const k of Object.keys(options))
      if (k !== 'backend' && k !== 'layout' && k !== 'algorithm' && k !== 'tune')
        throw invalidValue(`options.${k}`, 'one of the options backend, layout, algorithm, tune', k);
    if (options.backend === 'cuda' || options.backend === 'cudnn' || xt.device === 'cuda')
      throw new ResnextError(
        ERROR_CODES.UNSUPPORTED,
        'profile() runs on the cpu backend only (the GPU forward is one enqueued stream, not timed per step)',
      );
    const layout = checkLayout(options.layout);
    const tune = checkTune(options.tune);
    const algorithm = checkAlgorithm(options.algorithm, 'algorithm');
    const backend = resolveBackend(options.backend, 'cpu');
    if (backend.name !== 'cpu')
      throw new ResnextError(ERROR_CODES.UNSUPPORTED, `profile() runs on the cpu backend only, not on '${backend.name}'`);
    const key = xt.shape.join('x');
    if (!this.#checkedShapes.has(key)) {
      layerComplexity(this.architecture, [...xt.shape]);
      this.#checkedShapes.add(key);
    }
    return this.#hostEngineFor(backend, 'network', algorithm, layout, tune).profile(xt);
  }

  /** Prepares the fused engine now (BN folding, weight packing) instead of at the first forward. */
  prepare(
    options: {
      backend?: BackendName;
      dtype?: DType;
      algorithm?: ConvAlgorithm;
      denseConvs?: DenseConvImpl;
      layout?: CpuLayout;
      tune?: boolean;
    } = {},
  ): this {
    if (options.backend === 'cuda' || options.backend === 'cudnn') {
      const be = resolveBackend(options.backend, 'cuda');
      this.#cudaEngineFor(be, options.dtype ?? 'float32', options.denseConvs);
      return this;
    }
    if (options.denseConvs !== undefined) throw invalidValue('denseConvs', 'no denseConvs option on a host backend', options.denseConvs);
    const backend = resolveBackend(options.backend, 'cpu');
    const algorithm = checkAlgorithm(options.algorithm, 'algorithm');
    const layout = checkLayout(options.layout);
    const tune = checkTune(options.tune);
    if (backend.prepareNetwork) this.#hostEngineFor(backend, undefined, algorithm, layout, tune);
    return this;
  }

  /**
   * Kernel choices of the prepared conv plans (prepare() first), for diagnostics: one entry per conv in
   * torchvision's order, the same keys on every backend.
   */
  planInfo(): ConvPlanInfo[] {
    return (this.#cudaEngine ?? this.#engine)?.engine.info() ?? [];
  }

  /** The host engine: kept when its settings match (mode undefined keeps the current one), else rebuilt. */
  #hostEngineFor(
    backend: Backend,
    mode: ForwardMode | undefined,
    algorithm: ConvAlgorithm,
    layout: CpuLayout | undefined,
    tune: boolean | undefined,
  ): NetworkEngine {
    if (!backend.prepareNetwork)
      throw new ResnextError(ERROR_CODES.UNSUPPORTED, `The fused forward is not implemented on the ${backend.name} backend`);
    const e = this.#engine;
    if (
      e &&
      (e.backend !== backend.name ||
        (mode !== undefined && e.options.mode !== mode) ||
        (layout !== undefined && e.options.layout !== layout) ||
        (tune !== undefined && e.options.tune !== tune) ||
        e.options.algorithm !== algorithm)
    )
      this.#dropEngine();
    if (!this.#engine) {
      const m = mode ?? 'network';
      this.#engine = this.#prepare(backend, { mode: m, algorithm, layout: layout ?? 'auto', tune: tune ?? m === 'network' });
    }
    return this.#engine.engine;
  }

  #prepare(backend: Backend, options: NetworkOptions): Prepared {
    const net = fuseNetwork(this.architecture, this.#state);
    const lowering = backend.prepareNetwork!(net, options);
    releaseConvWeights(net);
    return { backend: backend.name, options, engine: new NetworkEngine(net, lowering) };
  }

  /** The GPU engine for these settings (validated), kept when they match the current one, else rebuilt. */
  #cudaEngineFor(backend: Backend, dtype: unknown, denseConvs: unknown): NetworkEngine {
    const name = backend.name as 'cuda' | 'cudnn';
    if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'bfloat16')
      throw invalidValue('dtype', "'float32', 'float16' or 'bfloat16'", dtype);
    const dense = denseConvs ?? defaultDenseConvs(name);
    if (dense !== 'cuda' && dense !== 'cudnn') throw invalidValue('denseConvs', "'cuda' or 'cudnn'", dense);
    if (name === 'cudnn' && dense !== 'cudnn') throw invalidValue('denseConvs', "'cudnn' (or nothing) on the cudnn backend", dense);
    if (dense === 'cudnn' && name === 'cuda') resolveBackend('cudnn', 'cuda', 'denseConvs');
    const e = this.#cudaEngine;
    if (e && (e.backend !== name || e.options.dtype !== dtype || e.options.denseConvs !== dense)) this.#dropEngine();
    if (!this.#cudaEngine) this.#cudaEngine = this.#prepare(backend, { dtype, denseConvs: dense });
    return this.#cudaEngine.engine;
  }

  /** Releases prepared plans and buffers; the weights stay. */
  #dropEngine(): void {
    this.#engine?.engine.dispose();
    this.#engine = null;
    this.#cudaEngine?.engine.dispose();
    this.#cudaEngine = null;
  }

  dispose(): void {
    this.#dropEngine();
  }
}

function checkTune(tune: unknown): boolean | undefined {
  if (tune === undefined || typeof tune === 'boolean') return tune;
  throw invalidType('tune', 'a boolean', tune);
}

function checkLayout(layout: unknown): CpuLayout | undefined {
  if (layout === undefined || layout === 'auto' || layout === 'blocked' || layout === 'nchw') return layout;
  throw typeof layout === 'string'
    ? invalidValue('layout', "'auto', 'blocked' or 'nchw'", layout)
    : invalidType('layout', "'auto', 'blocked' or 'nchw'", layout);
}
