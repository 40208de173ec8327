// The one network engine every device uses: it compiles a plan per input
// shape (plan.ts), has the backend's lowering turn it into a program, keeps
// the programs of the last few shapes in an LRU cache that disposes what it
// evicts, and runs forwards one at a time (programs own their buffers).
// What differs per device lives only in the lowering (lib/backends/*_network.ts).

import { disposedError, ERROR_CODES, ResnextError } from '../errors';
import type { DType, Tensor } from '../tensor';
import type { TuneChoice } from '../ops/conv2d_tune';
import { compilePlan, type FusedNetwork, type Layout, type LayoutRule, type NetworkPlan } from './plan';

/** Per-forward options a lowering may honour (graph: CUDA graph capture and replay). */
export interface RunOptions {
  graph: boolean;
}

/** One step of a profiled forward (model.profile), in the plan's order. */
export interface ProfileStep {
  /** The plan step: 'conv', 'reorder', 'maxPool2d', 'globalAvgPool' or 'linear'. */
  op: string;
  /** torchvision module name for a conv (e.g. 'layer1.0.conv2'), else 'maxpool', 'reorder', 'avgpool' or 'fc'. */
  name: string;
  /** The layout the step writes (a reorder: 'FROM->TO', e.g. 'NCHW->NCHW16c'). */
  layout: string;
  /** The conv's kernel (as planInfo() reports it). */
  impl?: string;
  /** The step's logical NCHW (or [N, features]) input shape. */
  inputShape: number[];
  /** Wall time of the step inside the native program, steady clock. */
  ms: number;
}

/** A forward timed step by step: the same logits a forward gives, each step's time, and the whole call's. */
export interface NetworkProfile {
  logits: Tensor;
  steps: ProfileStep[];
  /** Wall time of the whole native call as seen from JS (includes the worker-thread hand-off). */
  totalMs: number;
}

/** One input shape's plan, lowered onto a device: bound buffers and prepared steps. */
export interface NetworkProgram {
  run(x: Tensor, options: RunOptions): Promise<Tensor>;
  /** Runs one forward timing every step; absent where the lowering cannot. */
  profile?(x: Tensor): Promise<NetworkProfile>;
  /** Frees the program's buffers (and graphs); called only when no run is in flight. */
  dispose(): void;
}

/** What planInfo() reports for each conv, the same keys on every device (a type, so it reads as a Record). */
export type ConvPlanInfo = {
  /** torchvision module name, e.g. 'layer1.0.conv2'. */
  name: string;
  backend: string;
  /** Kernel name, e.g. 'grouped3x3s1_avx512', 'winograd_f43', 'grouped_vec4' or 'cudnn'. */
  impl: string;
  /** Kernel detail: the ISA on the CPU, the kernel's own description on the GPU. */
  detail: string;
  dtype: DType;
  packedBytes: number;
  /** The layout the conv reads and writes its activations in (e.g. 'NCHW', 'NCHW16c', 'NHWC'). */
  layout: Layout;
  /**
   * Kernel choice by measurement (cpu, option `tune`), for a conv with more than one candidate kernel: the
   * candidates (the cost model's first) and, per input shape lowered so far, the chosen kernel and each
   * candidate's time inside the whole forward. `impl` is the choice for the latest shape.
   */
  tuning?: { candidates: string[]; choices: TuneChoice[] };
};

/**
 * A backend's half of a network: the prepared weights, the layouts it computes in (`layout` between
 * layers, `convLayout` per conv when some convs run in another), and how to lower a plan onto the device.
 */
export interface NetworkLowering extends LayoutRule {
  lower(plan: NetworkPlan): NetworkProgram;
  /** One entry per conv, in the fused network's order. */
  info(): ConvPlanInfo[];
  /** Frees the prepared weights (after every program is disposed). */
  dispose(): void;
}

/** A least-recently-used map that disposes what it evicts. */
export class PlanCache<V extends { dispose(): void }> {
  #map = new Map<string, V>();
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#map.size;
  }

  /** The entry for key, made (evicting the least recently used entry when full) if absent; marked most recently used. */
  getOrCreate(key: string, make: () => V): V {
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const v = make();
    if (this.#map.size >= this.capacity) {
      const [oldKey, old] = this.#map.entries().next().value as [string, V];
      this.#map.delete(oldKey);
      old.dispose();
    }
    this.#map.set(key, v);
    return v;
  }

  clear(): void {
    for (const v of this.#map.values()) v.dispose();
    this.#map.clear();
  }
}

/** Runs tasks one after another; a failed task does not stop the next. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  push<T>(task: () => Promise<T> | T): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** How many input shapes keep their programs. */
export const MAX_SHAPES = 4;

export class NetworkEngine {
  readonly lowering: NetworkLowering;
  #net: FusedNetwork;
  #programs = new PlanCache<NetworkProgram>(MAX_SHAPES);
  #queue = new SerialQueue();
  #disposed = false;

  constructor(net: FusedNetwork, lowering: NetworkLowering) {
    this.#net = net;
    this.lowering = lowering;
  }

  info(): ConvPlanInfo[] {
    return this.lowering.info();
  }

  /** The compiled plan for an input shape (for diagnostics and tests; forwards use the cached programs). */
  plan(inputShape: readonly number[]): NetworkPlan {
    return compilePlan(this.#net, inputShape, this.lowering);
  }

  /** Runs one forward; forwards are serialised because a program's buffers are shared. x must not be written until it settles. */
  forward(x: Tensor, options: RunOptions = { graph: false }): Promise<Tensor> {
    if (this.#disposed) return Promise.reject(disposedError('model'));
    return this.#queue.push(() => {
      const program = this.#programs.getOrCreate(x.shape.join('x'), () => this.lowering.lower(this.plan(x.shape)));
      return program.run(x, options);
    });
  }

  /** One forward timed step by step (serialised like forward); UNSUPPORTED where the lowering cannot time steps. */
  profile(x: Tensor): Promise<NetworkProfile> {
    if (this.#disposed) return Promise.reject(disposedError('model'));
    return this.#queue.push(() => {
      const program = this.#programs.getOrCreate(x.shape.join('x'), () => this.lowering.lower(this.plan(x.shape)));
      if (!program.profile)
        throw new ResnextError(ERROR_CODES.UNSUPPORTED, 'profile() needs the fused cpu forward in mode network (one native program)');
      return program.profile(x);
    });
  }

  /** Refuses new forwards now; frees programs and weights once the forwards already queued have run. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#queue.push(() => {
      this.#programs.clear();
      this.lowering.dispose();
    });
  }
}
