// The fused forward on a native backend: prepared once per model, run many.
// At preparation every BatchNorm is folded into its conv (fold_bn.ts) and one
// Conv2dPlan is made per conv with the epilogue fused: bias + ReLU for the
// stem, conv1 and conv2 of each block; bias + residual add + ReLU for conv3;
// bias only for the projection shortcut. Activation buffers are allocated once
// per input shape and reused (ping-pong between blocks, shared scratch for the
// block's inner tensors), so a forward allocates only the returned logits.
// Each layer runs via runAsync (one native call per layer on a worker thread),
// so the event loop is never blocked for the whole network.
// Layout: x [N, 3, H, W] -> logits [N, numClasses].

import type { BackendName } from '../backends/backend';
import { type Conv2dPlan, conv2dPlan } from '../ops/conv2d';
import { globalAvgPoolAsync } from '../ops/global_avg_pool';
import { linearAsync } from '../ops/linear';
import { maxPool2dAsync } from '../ops/max_pool2d';
import { HostStorage, Tensor } from '../tensor';
import { type Architecture, type ConvDef, outSize } from './architecture';
import { foldBatchNorm } from './fold_bn';

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
}

/** How many input shapes keep their buffers (oldest dropped first). */
const MAX_SHAPES = 4;

function view(arr: Float32Array, shape: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return new Tensor(new HostStorage(arr.subarray(0, size)), shape);
}

export class FusedEngine {
  readonly backend: BackendName;
  #arch: Architecture;
  #stem: Conv2dPlan;
  #blocks: BlockPlans[];
  #fcWeight: Tensor;
  #fcBias: Tensor;
  #buffers = new Map<string, ShapeBuffers>();
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  constructor(arch: Architecture, state: Map<string, Tensor>, backend: BackendName) {
    this.backend = backend;
    this.#arch = arch;
    const plan = (c: ConvDef, activation: 'relu' | 'none'): Conv2dPlan => {
      const f = foldBatchNorm(state.get(`${c.name}.weight`)!, {
        weight: state.get(`${c.bn}.weight`)!,
        bias: state.get(`${c.bn}.bias`)!,
        runningMean: state.get(`${c.bn}.running_mean`)!,
        runningVar: state.get(`${c.bn}.running_var`)!,
      });
      return conv2dPlan(f.weight, { bias: f.bias, stride: c.stride, padding: c.padding, groups: c.groups, activation, backend });
    };
    this.#stem = plan(arch.stem, 'relu');
    this.#blocks = arch.stages.flat().map((b) => ({
      conv1: plan(b.conv1, 'relu'),
      conv2: plan(b.conv2, 'relu'),
      conv3: plan(b.conv3, 'relu'),
      downsample: b.downsample ? plan(b.downsample, 'none') : null,
    }));
    // Copies: the engine must not change when the caller writes the model's tensors.
    const fw = state.get('fc.weight')!, fb = state.get('fc.bias')!;
    this.#fcWeight = new Tensor(new HostStorage(fw.dataSync().slice()), [...fw.shape]);
    this.#fcBias = new Tensor(new HostStorage(fb.dataSync().slice()), [...fb.shape]);
  }

  /** Conv plans' kernel choices, for diagnostics. */
  info(): Record<string, unknown>[] {
    const out = [{ name: this.#arch.stem.name, ...this.#stem.info() }];
    this.#arch.stages.flat().forEach((b, i) => {
      const p = this.#blocks[i];
      out.push({ name: b.conv1.name, ...p.conv1.info() }, { name: b.conv2.name, ...p.conv2.info() }, { name: b.conv3.name, ...p.conv3.info() });
      if (b.downsample && p.downsample) out.push({ name: b.downsample.name, ...p.downsample.info() });
    });
    return out;
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
    const H1 = outSize(H, s.kernel, s.stride, s.padding), W1 = outSize(W, s.kernel, s.stride, s.padding);
    const stemShape = [N, s.outC, H1, W1];
    let cur = stemShape;
    let poolShape: number[] | null = null;
    if (arch.maxPool) {
      poolShape = [N, s.outC, outSize(H1, 3, 2, 1), outSize(W1, 3, 2, 1)];
      cur = poolShape;
    }
    // Sizes first, then one allocation per role.
    const plan: { input: number[]; t1: number[]; t2: number[]; ds: number[] | null; out: number[] }[] = [];
    let maxIO = 0, maxT1 = 0, maxT2 = 0, maxDs = 0;
    for (const b of arch.stages.flat()) {
      const [, , h, w] = cur;
      const P = outSize(h, 3, b.stride, 1), Q = outSize(w, 3, b.stride, 1);
      const e = { input: cur, t1: [N, b.width, h, w], t2: [N, b.width, P, Q], ds: b.downsample ? [N, b.outC, P, Q] : null, out: [N, b.outC, P, Q] };
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
    const t1 = new Float32Array(maxT1), t2 = new Float32Array(maxT2), ds = new Float32Array(maxDs);
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
    };
    if (this.#buffers.size >= MAX_SHAPES) this.#buffers.delete(this.#buffers.keys().next().value as string);
    this.#buffers.set(key, bufs);
    return bufs;
  }

  /** Runs one forward; calls are serialised because they share buffers. x must not be written until it settles. */
  forward(x: Tensor): Promise<Tensor> {
    const run = this.#queue.then(() => this.#run(x));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run(x: Tensor): Promise<Tensor> {
    if (this.#disposed) throw new TypeError('Expected a live model but received a disposed model');
    const b = this.#buffersFor(x.shape);
    const backend = 'cpu' as const;
    await this.#stem.runAsync(x, { out: b.stemOut });
    if (b.poolOut) await maxPool2dAsync(b.stemOut, { out: b.poolOut, backend });
    for (let i = 0; i < this.#blocks.length; i++) {
      const p = this.#blocks[i], t = b.blocks[i];
      await p.conv1.runAsync(t.input, { out: t.t1 });
      await p.conv2.runAsync(t.t1, { out: t.t2 });
      if (p.downsample) await p.downsample.runAsync(t.input, { out: t.ds! });
      await p.conv3.runAsync(t.t2, { out: t.out, residual: t.ds ?? t.input });
    }
    await globalAvgPoolAsync(b.blocks[b.blocks.length - 1].out, { out: b.pooled, backend });
    await linearAsync(b.flat, this.#fcWeight, this.#fcBias, { out: b.logits, backend });
    // A copy, so the caller's result survives the next forward.
    return new Tensor(new HostStorage(b.logits.dataSync().slice()), [...b.logits.shape]);
  }

  dispose(): void {
    this.#disposed = true;
    this.#stem.dispose();
    for (const p of this.#blocks) {
      p.conv1.dispose();
      p.conv2.dispose();
      p.conv3.dispose();
      p.downsample?.dispose();
    }
    this.#buffers.clear();
  }
}
