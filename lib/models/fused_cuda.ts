// The fused forward on the GPU ('cuda': our kernels, 'cudnn': cuDNN), prepared
// once per model and element type, run many. At preparation every BatchNorm is
// folded into its conv (fold_bn.ts) and one CudaConvPlan is made per conv with
// the epilogue fused (bias + ReLU for the stem, conv1, conv2; bias + residual +
// ReLU for conv3; bias only for the projection shortcut): the plans upload and
// pack the folded weights, so the weights stay on the device. fc's weight and
// bias are uploaded once as float32.
//
// Per input shape, device buffers are allocated once (input, stem, pool, two
// ping-pong block outputs, the block's inner tensors, pooled features, logits)
// and each layer reads and writes exact-size views of them, so a forward
// allocates nothing on the device and activations never leave it: the host
// sees only the input upload and the logits. Every layer is only enqueued on
// the addon's stream; the forward waits once, off the event loop, for the
// logits. With { graph: true } the whole sequence is captured once per input
// shape into a CUDA graph (after one uncaptured run that sizes scratch and
// lets cuDNN choose its algorithms) and replayed with one launch, which is
// what batch-1 latency needs: ~60 launches of a few microseconds each.
//
// Layout: every activation NHWC in the engine's dtype (float32, float16 or
// bfloat16, float32 accumulation); x [N, 3, H, W] -> logits [N, numClasses].

import { cudaBinding, loadCudaBinding } from '../binding';
import { CudaStorage } from '../cuda_storage';
import { DTYPE_CODES, type NativeCudaBinding, type NativeCudaConvPlan, type NativeCudaGraph, type NativeDeviceBuffer } from '../cuda_types';
import { disposedError, ERROR_CODES, ResnextError, rethrowNative } from '../errors';
import { HostStorage, type DType, Tensor } from '../tensor';
import { type Architecture, type ConvDef, outSize } from './architecture';
import { foldBatchNorm } from './fold_bn';

export type CudaModelBackend = 'cuda' | 'cudnn';

/**
 * Backend 'cuda' only: who runs the ungrouped convs (the 7x7 stem, the 1x1
 * convs, the shortcuts), which our grouped kernels are not tuned for: 'cuda'
 * (ours, the default) or 'cudnn'. The grouped 3x3 convs always run ours.
 */
export type DenseConvImpl = 'cuda' | 'cudnn';

interface ConvEntry {
  def: ConvDef;
  plan: NativeCudaConvPlan;
}

interface BlockConvs {
  conv1: ConvEntry;
  conv2: ConvEntry;
  conv3: ConvEntry;
  downsample: ConvEntry | null;
}

interface ShapeState {
  /** NHWC input in the engine's dtype; each forward writes x here. */
  input: NativeDeviceBuffer;
  logits: NativeDeviceBuffer;
  /** Owning buffers (views need no disposal). */
  owned: NativeDeviceBuffer[];
  /** The forward as enqueue-only calls bound to this shape's buffers. */
  steps: (() => void)[];
  /** An uncaptured run has happened (scratch sized, cuDNN algorithms found). */
  warm: boolean;
  graph: NativeCudaGraph | null;
}

/** How many input shapes keep their buffers (oldest dropped first). */
const MAX_SHAPES = 4;

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class CudaEngine {
  readonly backend: CudaModelBackend;
  readonly dtype: DType;
  readonly denseConvs: DenseConvImpl;
  #arch: Architecture;
  #b: NativeCudaBinding;
  #code: number;
  #stem: ConvEntry;
  #blocks: BlockConvs[];
  #fcWeight: NativeDeviceBuffer;
  #fcBias: NativeDeviceBuffer;
  #shapes = new Map<string, ShapeState>();
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  constructor(arch: Architecture, state: Map<string, Tensor>, backend: CudaModelBackend, dtype: DType, denseConvs: DenseConvImpl = 'cuda') {
    const b = cudaBinding();
    if (!b) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, `The ${backend} backend is unavailable: ${loadCudaBinding().reason}`);
    this.#b = b;
    this.backend = backend;
    this.dtype = dtype;
    this.denseConvs = backend === 'cudnn' ? 'cudnn' : denseConvs;
    this.#arch = arch;
    this.#code = DTYPE_CODES[dtype];
    const made: { dispose(): void }[] = [];
    const plan = (def: ConvDef, activation: 'relu' | 'none'): ConvEntry => {
      const f = foldBatchNorm(state.get(`${def.name}.weight`)!, {
        weight: state.get(`${def.bn}.weight`)!,
        bias: state.get(`${def.bn}.bias`)!,
        runningMean: state.get(`${def.bn}.running_mean`)!,
        runningVar: state.get(`${def.bn}.running_var`)!,
      });
      try {
        const p = new b.CudaConvPlan(f.weight.dataSync(), [...f.weight.shape], f.bias.dataSync(), {
          groups: def.groups,
          stride: [def.stride, def.stride],
          dilation: [1, 1],
          padding: [def.padding, def.padding, def.padding, def.padding],
          activation,
          dtype: this.#code,
          impl: def.groups === 1 ? this.denseConvs : backend,
        });
        made.push(p);
        return { def, plan: p };
      } catch (err) {
        rethrowNative(err, `${def.name} (${backend}, ${dtype})`);
      }
    };
    try {
      this.#stem = plan(arch.stem, 'relu');
      this.#blocks = arch.stages.flat().map((blk) => ({
        conv1: plan(blk.conv1, 'relu'),
        conv2: plan(blk.conv2, 'relu'),
        conv3: plan(blk.conv3, 'relu'),
        downsample: blk.downsample ? plan(blk.downsample, 'none') : null,
      }));
      const fw = state.get('fc.weight')!,
        fb = state.get('fc.bias')!;
      this.#fcWeight = new b.DeviceBuffer(fw.size, DTYPE_CODES.float32);
      made.push(this.#fcWeight);
      this.#fcWeight.upload(fw.dataSync(), null);
      this.#fcBias = new b.DeviceBuffer(fb.size, DTYPE_CODES.float32);
      made.push(this.#fcBias);
      this.#fcBias.upload(fb.dataSync(), null);
    } catch (err) {
      // Free what was made before the failure: device memory is not the GC's to manage quickly.
      for (const p of made) p.dispose();
      throw err;
    }
  }

  /** Conv plans' kernel choices, for diagnostics. */
  info(): Record<string, unknown>[] {
    const all = [this.#stem, ...this.#blocks.flatMap((p) => [p.conv1, p.conv2, p.conv3, ...(p.downsample ? [p.downsample] : [])])];
    return all.map((e) => ({ name: e.def.name, backend: this.backend, ...e.plan.info() }));
  }

  /** Number of input shapes with allocated buffers (for tests). */
  get cachedShapes(): number {
    return this.#shapes.size;
  }

  /** Number of input shapes with a captured CUDA graph (for tests). */
  get capturedGraphs(): number {
    let n = 0;
    for (const s of this.#shapes.values()) if (s.graph) n++;
    return n;
  }

  #stateFor(shape: readonly number[]): ShapeState {
    const key = shape.join('x');
    const hit = this.#shapes.get(key);
    if (hit) {
      // Most recently used last, so eviction drops the least recently used.
      this.#shapes.delete(key);
      this.#shapes.set(key, hit);
      return hit;
    }
    const b = this.#b,
      code = this.#code,
      arch = this.#arch;
    const owned: NativeDeviceBuffer[] = [];
    const alloc = (n: number): NativeDeviceBuffer => {
      const buf = new b.DeviceBuffer(n, code);
      owned.push(buf);
      return buf;
    };
    const view = (parent: NativeDeviceBuffer, shp: readonly number[]): NativeDeviceBuffer => new b.DeviceBuffer(product(shp), code, parent);
    const convOut = (d: ConvDef, s: readonly number[]): number[] => [
      s[0],
      d.outC,
      outSize(s[2], d.kernel, d.stride, d.padding),
      outSize(s[3], d.kernel, d.stride, d.padding),
    ];

    // Shapes first, then one allocation per role sized for its largest use.
    const N = shape[0];
    const stemShape = convOut(arch.stem, shape);
    const poolShape = arch.maxPool ? [N, stemShape[1], outSize(stemShape[2], 3, 2, 1), outSize(stemShape[3], 3, 2, 1)] : null;
    let cur = poolShape ?? stemShape;
    const plan = this.#blocks.map((p) => {
      const t1 = convOut(p.conv1.def, cur),
        t2 = convOut(p.conv2.def, t1),
        out = convOut(p.conv3.def, t2);
      const e = { input: cur, t1, t2, ds: p.downsample ? convOut(p.downsample.def, cur) : null, out };
      cur = out;
      return e;
    });
    const maxOf = (f: (e: (typeof plan)[number]) => number[] | null): number =>
      Math.max(
        1,
        ...plan.map((e) => {
          const s = f(e);
          return s ? product(s) : 1;
        }),
      );
    try {
      const input = alloc(product(shape));
      const stem = alloc(product(stemShape));
      const pool = poolShape ? alloc(product(poolShape)) : null;
      const ping = [alloc(maxOf((e) => e.out)), alloc(maxOf((e) => e.out))];
      const t1 = alloc(maxOf((e) => e.t1)),
        t2 = alloc(maxOf((e) => e.t2)),
        ds = alloc(maxOf((e) => e.ds));
      const C = cur[1],
        M = arch.numClasses;
      const pooled = alloc(N * C);
      const logits = alloc(N * M);

      const steps: (() => void)[] = [];
      const conv = (
        e: ConvEntry,
        x: NativeDeviceBuffer,
        xShape: readonly number[],
        out: NativeDeviceBuffer,
        res: NativeDeviceBuffer | null,
      ): void => {
        const s = [...xShape];
        steps.push(() => e.plan.run(x, s, out, res));
      };
      conv(this.#stem, input, shape, stem, null);
      let prev = stem,
        prevShape: readonly number[] = stemShape;
      if (pool && poolShape) {
        steps.push(() => b.maxPool2d(stem, [...stemShape], pool, [3, 3, 2, 2, 1, 1]));
        prev = pool;
        prevShape = poolShape;
      }
      plan.forEach((e, i) => {
        const p = this.#blocks[i];
        const v1 = view(t1, e.t1),
          v2 = view(t2, e.t2),
          vo = view(ping[i % 2], e.out);
        const vin = prev;
        conv(p.conv1, vin, prevShape, v1, null);
        conv(p.conv2, v1, e.t1, v2, null);
        let res = vin;
        if (p.downsample && e.ds) {
          res = view(ds, e.ds);
          conv(p.downsample, vin, prevShape, res, null);
        }
        conv(p.conv3, v2, e.t2, vo, res);
        prev = vo;
        prevShape = e.out;
      });
      const last = prev,
        lastShape = [...prevShape];
      steps.push(() => b.globalAvgPool(last, lastShape, pooled));
      steps.push(() => b.linear(pooled, [N, C], this.#fcWeight, this.#fcBias, logits, M));

      const st: ShapeState = { input, logits, owned, steps, warm: false, graph: null };
      if (this.#shapes.size >= MAX_SHAPES) {
        const oldest = this.#shapes.keys().next().value as string;
        this.#release(this.#shapes.get(oldest)!);
        this.#shapes.delete(oldest);
      }
      this.#shapes.set(key, st);
      return st;
    } catch (err) {
      for (const o of owned) o.dispose();
      throw err;
    }
  }

  #release(s: ShapeState): void {
    s.graph?.dispose();
    s.graph = null;
    // Frees are ordered on the stream after queued work: safe right away.
    for (const o of s.owned) o.dispose();
  }

  /** Runs one forward; calls are serialised because they share buffers. */
  forward(x: Tensor, options: { graph: boolean }): Promise<Tensor> {
    if (this.#disposed) return Promise.reject(disposedError('model'));
    const run = this.#queue.then(() => this.#run(x, options.graph));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #enqueueAll(s: ShapeState): void {
    for (const f of s.steps) f();
  }

  #capture(s: ShapeState): NativeCudaGraph {
    const b = this.#b;
    b.beginCapture();
    try {
      this.#enqueueAll(s);
    } catch (err) {
      try {
        b.endCapture().dispose();
      } catch {
        // The capture is ended either way; the first error is the one to report.
      }
      throw err;
    }
    return b.endCapture();
  }

  async #run(x: Tensor, graph: boolean): Promise<Tensor> {
    const s = this.#stateFor(x.shape);
    const shape = [...x.shape] as [number, number, number, number];
    try {
      const st = x.storage;
      if (st instanceof CudaStorage) {
        const src = st.nhwcFor(shape);
        try {
          s.input.copyFrom(src.buffer, 'convert', null);
        } finally {
          if (src.temporary) src.buffer.dispose();
        }
      } else {
        s.input.upload(x.dataSync(), shape);
      }
      if (!graph) {
        this.#enqueueAll(s);
        s.warm = true;
      } else {
        if (!s.graph) {
          // One uncaptured run first: buffers, scratch and cuDNN's algorithm
          // choice must exist before capture (a capture may not allocate).
          if (!s.warm) {
            this.#enqueueAll(s);
            s.warm = true;
          }
          s.graph = this.#capture(s);
        }
        s.graph.launch();
      }
    } catch (err) {
      rethrowNative(err, `forward (${this.backend}, ${this.dtype})`);
    }
    const N = shape[0],
      M = this.#arch.numClasses;
    if (x.device === 'cuda') {
      // Stays on the GPU, in a tensor of its own (the logits buffer is reused by the next forward).
      const out = CudaStorage.empty([N, M], this.dtype);
      out.buffer.copyFrom(s.logits, 'convert', null);
      return new Tensor(out, [N, M]);
    }
    const host = await s.logits.downloadAsync(null);
    return new Tensor(new HostStorage(host), [N, M]);
  }

  /** Refuses new forwards now; frees plans, graphs and buffers once the forwards already queued have run. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#queue.then(() => {
      for (const s of this.#shapes.values()) this.#release(s);
      this.#shapes.clear();
      this.#stem.plan.dispose();
      for (const p of this.#blocks) {
        p.conv1.plan.dispose();
        p.conv2.plan.dispose();
        p.conv3.plan.dispose();
        p.downsample?.plan.dispose();
      }
      this.#fcWeight.dispose();
      this.#fcBias.dispose();
    });
  }
}
