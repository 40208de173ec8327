// Kernel choice by measurement for a prepared convolution on the cpu backend.
// The registry picks a kernel by priority, a cost model that does not know the
// input size; where a transformed kernel (Winograd) competes with direct
// convolution, which is faster depends on the output size, the cache sizes and
// the core (a Winograd tile wastes lanes on a 7x7 output; its transforms cost
// more where FMA is cheap). There a plan prepares both candidates and, the
// first time it sees an input shape, times each on that shape (one untimed
// run, then the fastest of three) and keeps the winner for the shape. Winners
// are cached for the process (key: weight shape, options, ISA, thread count
// and input shape), so a second plan for the same layer does not time again.
// Timings are reported by info(). Opt-in (tune: true): without it a plan
// keeps the cost model's choice, reproducible from run to run and machine to
// machine.

import type { PreparedConv2d } from '../backends/backend';
import type { Shape4 } from '../shape';
import type { Tensor } from '../tensor';
import { emptyLike } from '../tensor';
import { getNumThreads } from '../threads';

export interface TuneChoice {
  inputShape: Shape4;
  chosen: string;
  /** Fastest of three timed runs per candidate, in ms; from the run that measured them when source is 'cached'. */
  timingsMs: Record<string, number>;
  /** 'measured' by this plan, or 'cached' from an earlier plan of the same layer in this process. */
  source: 'measured' | 'cached';
  /** The input shape the times were taken on, where not inputShape (a network times batches over 8 at batch 8). */
  measuredOn?: Shape4;
}

interface Candidate {
  impl: string;
  prepared: PreparedConv2d;
}

const winners = new Map<string, { chosen: string; timingsMs: Record<string, number> }>();

/** Forgets the per-process winners (tests): conv2dPlan's and the network engine's. */
export function clearTuneCache(): void {
  winners.clear();
}

/** A winner measured earlier in this process under key (the network engine's keys start with 'network|'). */
export function recallWinner(key: string): { chosen: string; timingsMs: Record<string, number> } | undefined {
  return winners.get(key);
}

export function rememberWinner(key: string, chosen: string, timingsMs: Record<string, number>): void {
  winners.set(key, { chosen, timingsMs });
}

/** The keys of the winners kept so far (tests: to alter a choice and check a later plan follows it). */
export function tuneCacheKeys(): string[] {
  return [...winners.keys()];
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export class KernelTuner {
  readonly #candidates: Candidate[];
  readonly #layerKey: string;
  readonly #byShape = new Map<string, { candidate: Candidate; choice: TuneChoice }>();
  #last: TuneChoice | null = null;

  /** candidates[0] is the cost model's choice. layerKey identifies the weight shape and options. */
  constructor(candidates: Candidate[], layerKey: string) {
    this.#candidates = candidates;
    this.#layerKey = layerKey;
  }

  /** The candidate for x's shape, timing the candidates first if neither this plan nor the process has. */
  pick(x: Tensor<Shape4>, out: Tensor<Shape4>, residual: Tensor<Shape4> | null): PreparedConv2d {
    const known = this.#known(x.shape);
    if (known) return known;
    const timingsMs: Record<string, number> = {};
    // A private output, so the caller's out is written once, by the real run.
    const scratch = emptyLike(out.shape, out);
    for (const c of this.#candidates) {
      c.prepared.run(x, scratch, residual);
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = now();
        c.prepared.run(x, scratch, residual);
        best = Math.min(best, now() - t0);
      }
      timingsMs[c.impl] = best;
    }
    return this.#decide(x.shape, timingsMs);
  }

  /** Like pick(), timing with runAsync (off the event loop). */
  async pickAsync(x: Tensor<Shape4>, out: Tensor<Shape4>, residual: Tensor<Shape4> | null): Promise<PreparedConv2d> {
    const known = this.#known(x.shape);
    if (known) return known;
    const timingsMs: Record<string, number> = {};
    const scratch = emptyLike(out.shape, out);
    for (const c of this.#candidates) {
      await c.prepared.runAsync(x, scratch, residual);
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = now();
        await c.prepared.runAsync(x, scratch, residual);
        best = Math.min(best, now() - t0);
      }
      timingsMs[c.impl] = best;
    }
    return this.#decide(x.shape, timingsMs);
  }

  /** Candidate kernels (the cost model's first), the choices made so far and the latest. */
  info(): { enabled: true; candidates: string[]; choices: TuneChoice[]; last: TuneChoice | null } {
    return {
      enabled: true,
      candidates: this.#candidates.map((c) => c.impl),
      choices: [...this.#byShape.values()].map((v) => v.choice),
      last: this.#last,
    };
  }

  /** The cost model's choice (before any run). */
  get first(): PreparedConv2d {
    return this.#candidates[0].prepared;
  }

  dispose(): void {
    for (const c of this.#candidates) c.prepared.dispose();
  }

  #shapeKey(shape: Shape4): string {
    return `${this.#layerKey}|threads ${getNumThreads()}|x [${shape.join(',')}]`;
  }

  #known(shape: Shape4): PreparedConv2d | null {
    const key = this.#shapeKey(shape);
    const mine = this.#byShape.get(key);
    if (mine) {
      this.#last = mine.choice;
      return mine.candidate.prepared;
    }
    const w = winners.get(key);
    const c = w && this.#candidates.find((k) => k.impl === w.chosen);
    if (!w || !c) return null;
    const choice: TuneChoice = { inputShape: shape, chosen: w.chosen, timingsMs: { ...w.timingsMs }, source: 'cached' };
    this.#byShape.set(key, { candidate: c, choice });
    this.#last = choice;
    return c.prepared;
  }

  #decide(shape: Shape4, timingsMs: Record<string, number>): PreparedConv2d {
    let best = this.#candidates[0];
    for (const c of this.#candidates) if (timingsMs[c.impl] < timingsMs[best.impl]) best = c;
    const key = this.#shapeKey(shape);
    const choice: TuneChoice = { inputShape: shape, chosen: best.impl, timingsMs, source: 'measured' };
    winners.set(key, { chosen: best.impl, timingsMs });
    this.#byShape.set(key, { candidate: best, choice });
    this.#last = choice;
    return best.prepared;
  }
}
