// The fused forward on a native backend: prepared once per model, run many.
// At preparation every BatchNorm is folded into its conv (fold_bn.ts) and one
// Conv2dPlan is made per conv with the epilogue fused: bias + ReLU for the
// stem, conv1 and conv2 of each block; bias + residual add + ReLU for conv3;
// bias only for the projection shortcut. Activation buffers are allocated once
// per input shape and reused (ping-pong between blocks, shared scratch for the
// block's inner tensors), so a forward allocates only the returned logits.
// Two ways to run, both off the event loop:
//   'network' (default when the addon has it): the whole forward is one layer
//     program (native/napi/network_wrap.cc) run as one worker-thread job, which
//     saves the ~40 us event-loop round trip per layer (about 60 layers);
//   'layer': each layer is its own async native call (Conv2dPlan.runAsync and
//     the pool/linear *Async ops), the fallback for builds without Network.
// Layout: x [N, 3, H, W] -> logits [N, numClasses].

import type { BackendName } from '../backends/backend';
import { cpuBinding } from '../binding';
import { awaitNative, disposedError, ERROR_CODES, ResnextError } from '../errors';
import type { NativeNetwork, NativeNetworkConv, NativeNetworkStep } from '../native_types';
import { type Conv2dPlan, conv2dPlan, type ConvAlgorithm } from '../ops/conv2d';
import { globalAvgPoolAsync } from '../ops/global_avg_pool';
import { linearAsync } from '../ops/linear';
import { maxPool2dAsync } from '../ops/max_pool2d';
import { HostStorage, Tensor } from '../tensor';
import { type Architecture, type ConvDef, outSize } from './architecture';
import { foldBatchNorm } from './fold_bn';

export type ForwardMode = 'network' | 'layer';

interface BlockPlans {
  conv1: Conv2dPlan;
  conv2: Conv2dPlan;
  conv3: Conv2dPlan;
  downsample: Conv2dPlan | null;
}

interface BlockBuffers {
  input: Tensor;
  t1: Tensor;
  t2: Tensor;
  ds: Tensor | null;
  out: Tensor;
}

interface ShapeBuffers {
  stemOut: Tensor;
  poolOut: Tensor | null;
  blocks: BlockBuffers[];
  pooled: Tensor;
  flat: Tensor;
  logits: Tensor;
  /** Network mode: the layer program bound to these buffers. */
  program: number | null;
}

/** How many input shapes keep their buffers (oldest dropped first). */
const MAX_SHAPES = 4;

function view(arr: Float32Array, shape: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return new Tensor(new HostStorage(arr.subarray(0, size)), shape);
}

interface FoldedDef {
  def: ConvDef;
  activation: 'relu' | 'none';
}

export class FusedEngine {
  readonly backend: BackendName;
  readonly mode: ForwardMode;
  readonly algorithm: ConvAlgorithm;
  #arch: Architecture;
  /** Execution order: stem, then per block conv1, conv2, conv3, downsample (index = native conv index). */
  #convs: FoldedDef[];
  #stem: Conv2dPlan | null = null;
  #blocks: BlockPlans[] = [];
  #network: NativeNetwork | null = null;
  #fcWeight: Tensor;
  #fcBias: Tensor;
  #buffers = new Map<string, ShapeBuffers>();
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  constructor(arch: Architecture, state: Map<string, Tensor>, backend: BackendName, mode?: ForwardMode, algorithm: ConvAlgorithm = 'auto') {
    this.backend = backend;
    this.algorithm = algorithm;
    this.#arch = arch;
    const Network = backend === 'cpu' ? cpuBinding()?.Network : undefined;
    this.mode = mode ?? (Network ? 'network' : 'layer');
    if (this.mode === 'network' && !Network)
      throw new ResnextError(
        ERROR_CODES.UNSUPPORTED,
        "The 'network' forward mode needs the native Network class, which this build of the addon lacks",
      );
    this.#convs = [{ def: arch.stem, activation: 'relu' }];
    for (const b of arch.stages.flat()) {
      this.#convs.push({ def: b.conv1, activation: 'relu' }, { def: b.conv2, activation: 'relu' }, { def: b.conv3, activation: 'relu' });
      if (b.downsample) this.#convs.push({ def: b.downsample, activation: 'none' });
    }
    const fold = (c: ConvDef) =>
      foldBatchNorm(state.get(`${c.name}.weight`)!, {
        weight: state.get(`${c.bn}.weight`)!,
        bias: state.get(`${c.bn}.bias`)!,
        runningMean: state.get(`${c.bn}.running_mean`)!,
        runningVar: state.get(`${c.bn}.running_var`)!,
      });
    if (this.mode === 'network') {
      const net = new Network!(
        this.#convs.map(({ def: c, activation }) => {
          const f = fold(c);
          const spec: NativeNetworkConv = {
            weight: f.weight.dataSync(),
            shape: [...f.weight.shape],
            bias: f.bias.dataSync(),
            groups: c.groups,
            stride: [c.stride, c.stride],
            padding: [c.padding, c.padding, c.padding, c.padding],
            activation,
            algorithm,
          };
          return spec;
        }),
      );
      this.#network = net;
    } else {
      const plan = ({ def: c, activation }: FoldedDef): Conv2dPlan => {
        const f = fold(c);
        return conv2dPlan(f.weight, {
          bias: f.bias,
          stride: c.stride,
          padding: c.padding,
          groups: c.groups,
          activation,
          backend,
          algorithm,
        });
      };
      let i = 0;
      this.#stem = plan(this.#convs[i++]);
      this.#blocks = arch.stages.flat().map((b) => ({
        conv1: plan(this.#convs[i++]),
        conv2: plan(this.#convs[i++]),
        conv3: plan(this.#convs[i++]),
        downsample: b.downsample ? plan(this.#convs[i++]) : null,
      }));
    }
    // Copies: the engine must not change when the caller writes the model's tensors.
    const fw = state.get('fc.weight')!,
      fb = state.get('fc.bias')!;
    this.#fcWeight = new Tensor(new HostStorage(fw.dataSync().slice()), [...fw.shape]);
    this.#fcBias = new Tensor(new HostStorage(fb.dataSync().slice()), [...fb.shape]);
  }

  /** Conv plans' kernel choices, for diagnostics. */
  info(): Record<string, unknown>[] {
    if (this.#network) return this.#network.info().map((p, i) => ({ name: this.#convs[i].def.name, ...p }));
    const plans = [this.#stem!, ...this.#blocks.flatMap((b) => [b.conv1, b.conv2, b.conv3, ...(b.downsample ? [b.downsample] : [])])];
    return plans.map((p, i) => ({ name: this.#convs[i].def.name, ...p.info() }));
  }

  /** Number of input shapes with allocated buffers (for tests). */
  get cachedShapes(): number {
    return this.#buffers.size;
  }

  #buffersFor(shape: readonly number[]): ShapeBuffers {
    const key = shape.join('x');
    const hit = this.#buffers.get(key);
    if (hit) return hit;
    const arch = this.#arch;
    const [N, , H, W] = shape;
    const s = arch.stem;
    const H1 = outSize(H, s.kernel, s.stride, s.padding),
      W1 = outSize(W, s.kernel, s.stride, s.padding);
    const stemShape = [N, s.outC, H1, W1];
    let cur = stemShape;
    let poolShape: number[] | null = null;
    if (arch.maxPool) {
      poolShape = [N, s.outC, outSize(H1, 3, 2, 1), outSize(W1, 3, 2, 1)];
      cur = poolShape;
    }
    // Sizes first, then one allocation per role.
    const plan: { input: number[]; t1: number[]; t2: number[]; ds: number[] | null; out: number[] }[] = [];
    let maxIO = 0,
      maxT1 = 0,
      maxT2 = 0,
      maxDs = 0;
    for (const b of arch.stages.flat()) {
      const [, , h, w] = cur;
      const P = outSize(h, 3, b.stride, 1),
        Q = outSize(w, 3, b.stride, 1);
      const e = {
        input: cur,
        t1: [N, b.width, h, w],
        t2: [N, b.width, P, Q],
        ds: b.downsample ? [N, b.outC, P, Q] : null,
        out: [N, b.outC, P, Q],
      };
      const sz = (v: number[]): number => v.reduce((a, c) => a * c, 1);
      maxIO = Math.max(maxIO, sz(e.out));
      maxT1 = Math.max(maxT1, sz(e.t1));
      maxT2 = Math.max(maxT2, sz(e.t2));
      if (e.ds) maxDs = Math.max(maxDs, sz(e.ds));
      plan.push(e);
      cur = e.out;
    }
    const stemArr = new Float32Array(stemShape.reduce((a, b) => a * b, 1));
    const poolArr = poolShape ? new Float32Array(poolShape.reduce((a, b) => a * b, 1)) : null;
    const ping = [new Float32Array(maxIO), new Float32Array(maxIO)];
    const t1 = new Float32Array(maxT1),
      t2 = new Float32Array(maxT2),
      ds = new Float32Array(Math.max(1, maxDs));
    const stemOut = view(stemArr, stemShape);
    const first = poolArr ? view(poolArr, poolShape!) : stemOut;
    let prev = first;
    const blocks = plan.map((e, i) => {
      const out = view(ping[i % 2], e.out);
      const bb = { input: prev, t1: view(t1, e.t1), t2: view(t2, e.t2), ds: e.ds ? view(ds, e.ds) : null, out };
      prev = out;
      return bb;
    });
    const C = cur[1];
    const pooled = new Tensor(new HostStorage(new Float32Array(N * C)), [N, C, 1, 1]);
    const bufs: ShapeBuffers = {
      stemOut,
      poolOut: poolArr ? first : null,
      blocks,
      pooled,
      flat: pooled.reshape([N, C]),
      logits: new Tensor(new HostStorage(new Float32Array(N * arch.numClasses)), [N, arch.numClasses]),
      program: null,
    };
    if (this.#network)
      bufs.program = this.#network.addProgram(
        this.#steps(shape, bufs),
        shape.reduce((a, b) => a * b, 1),
      );
    if (this.#buffers.size >= MAX_SHAPES) {
      const oldest = this.#buffers.keys().next().value as string;
      const old = this.#buffers.get(oldest)!;
      if (old.program !== null) this.#network!.dropProgram(old.program);
      this.#buffers.delete(oldest);
    }
    this.#buffers.set(key, bufs);
    return bufs;
  }

  /** The layer program of one input shape: the same steps #runLayers takes, bound to the same buffers. */
  #steps(shape: readonly number[], b: ShapeBuffers): NativeNetworkStep[] {
    const steps: NativeNetworkStep[] = [];
    let ci = 0;
    const conv = (input: Tensor | null, inputShape: readonly number[], out: Tensor, residual: Tensor | null): void => {
      steps.push({
        op: 'conv',
        conv: ci++,
        input: input ? input.dataSync() : null,
        inputShape: [...inputShape],
        output: out.dataSync(),
        residual: residual ? residual.dataSync() : null,
      });
    };
    conv(null, shape, b.stemOut, null);
    if (b.poolOut)
      steps.push({
        op: 'maxPool2d',
        input: b.stemOut.dataSync(),
        inputShape: [...b.stemOut.shape],
        output: b.poolOut.dataSync(),
        params: [3, 3, 2, 2, 1, 1],
      });
    for (const t of b.blocks) {
      conv(t.input, t.input.shape, t.t1, null);
      conv(t.t1, t.t1.shape, t.t2, null);
      conv(t.t2, t.t2.shape, t.out, t.ds ?? t.input);
      // The downsample is conv index ci after conv3 but must run before it: reorder.
      if (t.ds) {
        const c3 = steps.pop()!;
        conv(t.input, t.input.shape, t.ds, null);
        const ds = steps.pop()!;
        steps.push(ds, c3);
      }
    }
    const last = b.blocks[b.blocks.length - 1].out;
    steps.push({ op: 'globalAvgPool', input: last.dataSync(), inputShape: [...last.shape], output: b.pooled.dataSync() });
    steps.push({
      op: 'linear',
      input: b.flat.dataSync(),
      inputShape: [...b.flat.shape],
      weight: this.#fcWeight.dataSync(),
      weightShape: [...this.#fcWeight.shape],
      bias: this.#fcBias.dataSync(),
      output: b.logits.dataSync(),
    });
    return steps;
  }

  /** Runs one forward; calls are serialised because they share buffers. x must not be written until it settles. */
  forward(x: Tensor): Promise<Tensor> {
    if (this.#disposed) return Promise.reject(disposedError('model'));
    const run = this.#queue.then(() => this.#run(x));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(x: Tensor): Promise<Tensor> {
    const b = this.#buffersFor(x.shape);
    if (this.#network) await awaitNative(this.#network.runAsync(b.program!, x.dataSync()), 'forward (cpu)');
    else await this.#runLayers(x, b);
    // A copy, so the caller's result survives the next forward.
    return new Tensor(new HostStorage(b.logits.dataSync().slice()), [...b.logits.shape]);
  }

  async #runLayers(x: Tensor, b: ShapeBuffers): Promise<void> {
    const backend = 'cpu' as const;
    await this.#stem!.runAsync(x, { out: b.stemOut });
    if (b.poolOut) await maxPool2dAsync(b.stemOut, { out: b.poolOut, backend });
    for (let i = 0; i < this.#blocks.length; i++) {
      const p = this.#blocks[i],
        t = b.blocks[i];
      await p.conv1.runAsync(t.input, { out: t.t1 });
      await p.conv2.runAsync(t.t1, { out: t.t2 });
      if (p.downsample) await p.downsample.runAsync(t.input, { out: t.ds! });
      await p.conv3.runAsync(t.t2, { out: t.out, residual: t.ds ?? t.input });
    }
    await globalAvgPoolAsync(b.blocks[b.blocks.length - 1].out, { out: b.pooled, backend });
    await linearAsync(b.flat, this.#fcWeight, this.#fcBias, { out: b.logits, backend });
  }

  /** Refuses new forwards now; frees plans and buffers once the forwards already queued have run. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#queue.then(() => {
      this.#stem?.dispose();
      for (const p of this.#blocks) {
        p.conv1.dispose();
        p.conv2.dispose();
        p.conv3.dispose();
        p.downsample?.dispose();
      }
      this.#network?.dispose();
      this.#network = null;
      this.#buffers.clear();
    });
  }
}
