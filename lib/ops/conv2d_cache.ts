// Prepared-plan cache behind the one-shot conv2d()/conv2dAsync() on the cpu
// backend. Preparing a plan packs (and for Winograd, transforms) the weights;
// for a small layer that costs up to a hundred times the run itself, so a
// one-shot call reuses the plan made for the same weight array by an earlier
// call. The plan is the one conv2dPlan() would make, on a first call as on
// later ones: the kernel never depends on call history, so equal calls give
// equal bits.
//
// Correctness under mutation: host tensors share their Float32Array with the
// caller (tensor(data, shape) does not copy, dataSync() hands out the tensor's
// own memory), so a weight can change through any alias without the tensor
// knowing. No version counter can see that; the cache keeps a private copy of
// the weight (and bias) values the plan was packed from and compares it byte
// for byte (memcmp) with the current values on every hit. That costs one read
// of the weights and of the copy (1.2 MB each for ResNeXt-50's largest grouped
// layer: 70 us on one core, mostly from L3) and is exact: any change,
// including -0 vs 0 or a different NaN, prepares a new plan. Synchronous calls
// pass the backend's sameValues (the cpu backend splits the compare over its
// thread pool, which the run that follows waits for anyway); async calls
// compare on the calling thread, which must never wait for the pool.
//
// Entries are keyed on the weight's Float32Array (WeakMap: an entry dies with
// the array) and bounded by a budget on the bytes they hold (the copy of the
// weights plus the plan's packed weights, up to about 6x the weights for a
// Winograd kernel), least recently used evicted first.
// RESNEXT_CONV2D_CACHE_MB sets the budget (0 turns the cache off).

import { sameBits, type Tensor } from '../tensor';

/** What the cache needs of a prepared plan. */
export interface CachedPlan {
  info(): Record<string, unknown>;
  dispose(): void;
}

/** Bit-exact equality of two arrays of the same length. */
export type SameValues = (a: Float32Array, b: Float32Array) => boolean;

interface Entry<P extends CachedPlan> {
  key: string;
  weightBytes: Float32Array;
  biasBytes: Float32Array | null;
  plan: P;
  /** What the entry holds: the weight copy and the plan's packed weights. */
  bytes: number;
  /** Async runs still reading the plan: it is disposed only after they settle. */
  inFlight: number;
  evicted: boolean;
}

const DEFAULT_BUDGET_MB = 256;
const MAX_ENTRIES_PER_WEIGHT = 4;

function budgetBytes(): number {
  const env = process.env.RESNEXT_CONV2D_CACHE_MB;
  if (env !== undefined && env !== '') {
    const v = Number(env);
    if (Number.isFinite(v) && v >= 0) return v * 2 ** 20;
  }
  return DEFAULT_BUDGET_MB * 2 ** 20;
}

function snapshot(a: Float32Array): Float32Array {
  return a.slice();
}

/** The weight copy plus the plan's packed weights (info().packedBytes; else as much again as the weights). */
function heldBytes(weightBytes: Float32Array, plan: CachedPlan): number {
  const packed = plan.info().packedBytes;
  return weightBytes.byteLength + (typeof packed === 'number' && packed >= 0 ? packed : weightBytes.byteLength);
}

/** use(plan), then plan.dispose(): at once, or when a promise use() returns settles. */
export function runThenDispose<P extends CachedPlan, R>(plan: P, use: (plan: P) => R): R {
  let result: R;
  try {
    result = use(plan);
  } catch (err) {
    plan.dispose();
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => plan.dispose()) as R;
  plan.dispose();
  return result;
}

/** Outcome of a lookup, for tests and diagnostics. */
export type CacheOutcome = 'hit' | 'miss' | 'changed' | 'off';

export interface CacheStats {
  hit: number;
  miss: number;
  changed: number;
  off: number;
  entries: number;
  bytes: number;
}

export class PlanCache<P extends CachedPlan> {
  #byWeight = new WeakMap<Float32Array, Entry<P>[]>();
  /**
   * Every live entry, least recently used first (Map keeps insertion order),
   * with its weight array held weakly: the cache must not keep weights alive.
   */
  #lru = new Map<Entry<P>, WeakRef<Float32Array>>();
  #bytes = 0;
  #stats: Record<CacheOutcome, number> = { hit: 0, miss: 0, changed: 0, off: 0 };
  #lastOutcome: CacheOutcome = 'off';
  #finalizer = new FinalizationRegistry<Entry<P>[]>((entries) => {
    for (const e of entries) this.#drop(e);
  });

  /**
   * The plan for (weight, bias, key): a cached one when weight and bias still
   * hold the values it was packed from, else a new one from prepare(). use()
   * runs with the plan; a promise it returns holds the plan until it settles. `same` compares the values
   * (default: on the calling thread).
   */
  use<R>(weight: Tensor, bias: Tensor | null, key: string, prepare: () => P, use: (plan: P) => R, same: SameValues = sameBits): R {
    const budget = budgetBytes();
    const w = weight.dataSync();
    if (budget === 0 || 2 * w.byteLength > budget) {
      this.#record('off');
      return runThenDispose(prepare(), use);
    }
    const b = bias ? bias.dataSync() : null;
    let list = this.#byWeight.get(w);
    let entry = list?.find((e) => e.key === key);
    let outcome: CacheOutcome;
    if (entry && this.#valuesMatch(entry, w, b, same)) {
      outcome = 'hit';
      this.#touch(entry, w);
    } else {
      outcome = entry ? 'changed' : 'miss';
      const plan = prepare();
      if (entry) {
        entry.weightBytes = snapshot(w);
        entry.biasBytes = b ? snapshot(b) : null;
        this.#replace(entry, plan);
        const bytes = heldBytes(entry.weightBytes, plan);
        this.#bytes += bytes - entry.bytes;
        entry.bytes = bytes;
        this.#touch(entry, w);
      } else {
        const weightBytes = snapshot(w);
        entry = {
          key,
          weightBytes,
          biasBytes: b ? snapshot(b) : null,
          plan,
          bytes: heldBytes(weightBytes, plan),
          inFlight: 0,
          evicted: false,
        };
        if (!list) {
          list = [];
          this.#byWeight.set(w, list);
          this.#finalizer.register(w, list);
        }
        list.push(entry);
        if (list.length > MAX_ENTRIES_PER_WEIGHT) this.#drop(list[0]);
        this.#lru.set(entry, new WeakRef(w));
        this.#bytes += entry.bytes;
        this.#evictOver(budget, entry);
      }
    }
    this.#record(outcome);
    return this.#runHeld(entry, use);
  }

  /** Counts per outcome since the last clear(), and the cache's size. */
  stats(): CacheStats {
    return { ...this.#stats, entries: this.#lru.size, bytes: this.#bytes };
  }

  /** How the last use() found its plan. */
  get lastOutcome(): CacheOutcome {
    return this.#lastOutcome;
  }

  /** Drops every entry (their plans are disposed once no run holds them). */
  clear(): void {
    for (const e of [...this.#lru.keys()]) this.#drop(e);
    this.#stats = { hit: 0, miss: 0, changed: 0, off: 0 };
  }

  #record(o: CacheOutcome): void {
    this.#stats[o]++;
    this.#lastOutcome = o;
  }

  #valuesMatch(e: Entry<P>, w: Float32Array, b: Float32Array | null, same: SameValues): boolean {
    if (!same(e.weightBytes, w)) return false;
    if (b === null || e.biasBytes === null) return b === null && e.biasBytes === null;
    return sameBits(e.biasBytes, b);
  }

  #touch(e: Entry<P>, w: Float32Array): void {
    const ref = this.#lru.get(e) ?? new WeakRef(w);
    this.#lru.delete(e);
    this.#lru.set(e, ref);
  }

  #replace(e: Entry<P>, plan: P): void {
    const old = e.plan;
    const wasInFlight = e.inFlight;
    e.plan = plan;
    e.inFlight = 0;
    // A run still holding the old plan disposes it when it settles.
    if (wasInFlight === 0) old.dispose();
    else this.#retired.set(old, wasInFlight);
  }

  /** Old plans replaced while async runs held them, with the number of such runs. */
  #retired = new Map<P, number>();

  #evictOver(budget: number, keep: Entry<P>): void {
    for (const e of this.#lru.keys()) {
      if (this.#bytes <= budget) break;
      if (e !== keep) this.#drop(e);
    }
  }

  #drop(e: Entry<P>): void {
    if (e.evicted) return;
    e.evicted = true;
    const w = this.#lru.get(e)?.deref();
    if (this.#lru.delete(e)) this.#bytes -= e.bytes;
    if (w) {
      const list = this.#byWeight.get(w);
      if (list) {
        const i = list.indexOf(e);
        if (i >= 0) list.splice(i, 1);
      }
    }
    if (e.inFlight === 0) e.plan.dispose();
  }

  #runHeld<R>(e: Entry<P>, use: (plan: P) => R): R {
    const plan = e.plan;
    const result = use(plan);
    if (!(result instanceof Promise)) return result;
    e.inFlight++;
    const release = () => {
      if (e.plan === plan) {
        e.inFlight--;
        if (e.evicted && e.inFlight === 0) plan.dispose();
      } else {
        const n = (this.#retired.get(plan) ?? 1) - 1;
        if (n <= 0) {
          this.#retired.delete(plan);
          plan.dispose();
        } else {
          this.#retired.set(plan, n);
        }
      }
    };
    return result.finally(release) as R;
  }
}
