// The network compiler: a ResNeXt architecture becomes, once per input shape,
// a device-neutral plan that every backend lowers (lib/backends/*_network.ts).
// The plan fixes what does not depend on the device:
//   - the steps in execution order (stem, max pool, per block conv1, conv2,
//     the projection shortcut, conv3, then global average pool and fc);
//   - the fusion decisions: BatchNorm folded into each conv (fold_bn.ts), the
//     bias, the residual add and the ReLU in the conv's epilogue;
//   - every activation's shape and layout, with explicit 'reorder' steps where
//     a layout changes: the caller's x is NCHW; the lowering names the layout
//     it keeps between layers and may run single convs in another one (the
//     CPU's blocked NCHW16c / NCHW8c), and the compiler reorders a value only
//     where its producer's layout differs from its reader's, once per value and
//     layout (a block's conv1 and its projection shortcut share one reorder);
//   - buffer liveness: each activation is given an arena slot, reused once its
//     last reader has run, and no step writes a slot it reads, with one
//     exception: a conv whose kernels may write over their residual
//     (LayoutRule.residualInPlace) and that is its residual's last reader
//     writes its output into the residual's slot (step.inPlace), as
//     onnxruntime does with a Sum input; the output then streams through one
//     array instead of two. checkPlan checks both rules for every plan.
// The unfused forward (forward_unfused.ts) deliberately shares none of this:
// it is the oracle that catches a wrong step order or shape here.

import { ResnextError } from '../errors';
import { HostStorage, Tensor } from '../tensor';
import { type Architecture, type ConvDef, allConvs, outSize } from './architecture';
import { batchNormScale, scaleWeight } from './fold_bn';

/**
 * How an activation is stored. 'NCHW' (the caller's layout), 'NHWC' (the GPU
 * lowering's), 'NCHW16c' / 'NCHW8c' (channels in blocks of 16 / 8, innermost,
 * the channel count rounded up to whole blocks with zero padding: the CPU's
 * blocked kernels with AVX-512 / AVX2 and scalar) and 'NC' (a rank-2 [N, C]
 * value, after pooling).
 */
export type Layout = 'NCHW' | 'NHWC' | 'NCHW16c' | 'NCHW8c' | 'NC';

/** Channels per block of a blocked layout, 0 for the others. */
export function blockSize(layout: Layout): number {
  return layout === 'NCHW16c' ? 16 : layout === 'NCHW8c' ? 8 : 0;
}

/** Elements a value of this logical shape takes in a layout (blocked: channels rounded up to whole blocks). */
export function layoutSize(shape: readonly number[], layout: Layout): number {
  const cb = blockSize(layout);
  if (cb === 0) return product(shape);
  const [N, C, H, W] = shape;
  return N * Math.ceil(C / cb) * cb * H * W;
}

/**
 * Which layouts a lowering computes in: `layout` for the values it keeps
 * between layers (the stem's max pool and the global average pool read it),
 * and, when `convLayout` is given, the layout each conv (an index into the
 * fused network's convs) reads, writes and takes its residual in.
 */
export interface LayoutRule {
  readonly layout: Layout;
  convLayout?(conv: number, inputShape: readonly number[]): Layout;
  /** Whether conv `conv` may write its output over its residual (the same buffer); absent: never. */
  residualInPlace?(conv: number): boolean;
  /**
   * Whether the lowering's max pool may write (from `layout`) the blocked layout its first reader's conv
   * runs in, and its global average pool read a blocked value; absent: both stay in `layout`.
   */
  blockedPools?: boolean;
}

/** One conv with its BatchNorm folded in and its fused epilogue; the network's weights, ready for any backend. */
export interface FusedConv {
  def: ConvDef;
  /** Applied after bias (and residual, when the step has one). */
  activation: 'relu' | 'none';
  /**
   * The conv's own (unfolded) weight [K, C/groups, R, S] and the BatchNorm scale per output channel that
   * folds it: folded weight[k] = rawWeight[k] * scale[k] (foldedWeight()). A backend that scales while it
   * packs (the CPU network) never materialises the folded copy of the whole network at once.
   */
  rawWeight: Tensor;
  scale: Float64Array;
  /** Folded bias [K], float32. */
  bias: Tensor;
}

/** A conv's folded weight [K, C/groups, R, S] (a fresh float32 tensor on every call). */
export function foldedWeight(c: FusedConv): Tensor {
  return scaleWeight(c.rawWeight, c.scale);
}

/** The shape-independent half of a compiled network: folded convs (in torchvision's order) and fc. */
export interface FusedNetwork {
  arch: Architecture;
  convs: FusedConv[];
  fc: { weight: Tensor; bias: Tensor };
}

export interface PlanValue {
  /** [N, C, H, W] (or [N, C] for layout 'NC'), whatever the layout. */
  shape: number[];
  layout: Layout;
  /** Elements. */
  size: number;
  /** Arena slot, or -1 for the network input, which the caller supplies. */
  slot: number;
}

export type PlanStep =
  | { op: 'reorder'; x: number; y: number }
  /**
   * x, residual and y are all in the conv's layout. inPlace: y takes the residual's slot (the conv is the
   * residual's last reader and its kernels allow it), so the lowering passes one buffer as both.
   */
  | { op: 'conv'; conv: number; x: number; y: number; residual: number | null; inPlace?: true }
  | { op: 'maxPool2d'; x: number; y: number; kernel: number; stride: number; padding: number }
  | { op: 'globalAvgPool'; x: number; y: number }
  | { op: 'linear'; x: number; y: number };

export interface NetworkPlan {
  /** The caller's input shape [N, C, H, W] (NCHW). */
  inputShape: number[];
  /** The layout activations are kept in between layers (single convs may run in another, see LayoutRule). */
  layout: Layout;
  values: PlanValue[];
  steps: PlanStep[];
  /** Elements of each arena slot (the largest value it ever holds). */
  slots: number[];
  /** The network input (value 0, slot -1) and the logits. */
  input: number;
  output: number;
}

/** The max pool after the ImageNet stem (torchvision: kernel 3, stride 2, padding 1). */
const STEM_POOL = { kernel: 3, stride: 2, padding: 1 } as const;

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** BN folded into every conv (its scale and bias; the weights scale on use), the epilogue each conv fuses, fc copied. */
export function fuseNetwork(arch: Architecture, state: Map<string, Tensor>): FusedNetwork {
  const downsamples = new Set(arch.stages.flat().flatMap((b) => (b.downsample ? [b.downsample.name] : [])));
  const convs = allConvs(arch).map((def): FusedConv => {
    const { scale, bias } = batchNormScale({
      weight: state.get(`${def.bn}.weight`)!,
      bias: state.get(`${def.bn}.bias`)!,
      runningMean: state.get(`${def.bn}.running_mean`)!,
      runningVar: state.get(`${def.bn}.running_var`)!,
    });
    // The projection shortcut feeds conv3's residual before the ReLU: no activation of its own.
    const activation = downsamples.has(def.name) ? 'none' : 'relu';
    // rawWeight is the model's own tensor, read by the lowering while it is built (and released after).
    return { def, activation, rawWeight: state.get(`${def.name}.weight`)!, scale, bias };
  });
  // Copies: a prepared engine must not change when the caller writes the model's tensors.
  const copy = (t: Tensor): Tensor => new Tensor(new HostStorage(t.dataSync().slice()), [...t.shape]);
  return { arch, convs, fc: { weight: copy(state.get('fc.weight')!), bias: copy(state.get('fc.bias')!) } };
}

/**
 * Drops the convs' weights once a backend has built its lowering from them: a
 * lowering reads them only while it is being built (packing them into native
 * or device memory) and the plan compiler needs only the defs, so keeping
 * them would pin weights (or, after a write to the model, stale ones) for the
 * life of the engine. Reading one afterwards throws instead.
 */
export function releaseConvWeights(net: FusedNetwork): void {
  const released = (): never => {
    throw new ResnextError('ERR_RESNEXT_INTERNAL', 'the folded conv weights are released once the network is lowered');
  };
  for (const c of net.convs) {
    for (const key of ['rawWeight', 'scale', 'bias'] as const) Object.defineProperty(c, key, { get: released, configurable: true });
  }
}

class Builder {
  readonly values: PlanValue[] = [];
  readonly steps: PlanStep[] = [];
  /** Reorders already made: `${value} ${layout}` -> the reordered value. */
  readonly #reordered = new Map<string, number>();
  constructor(
    readonly rule: LayoutRule,
    readonly inputShape: readonly number[],
  ) {}

  value(shape: number[], layout: Layout): number {
    this.values.push({ shape, layout, size: layoutSize(shape, layout), slot: -1 });
    return this.values.length - 1;
  }

  /** x in `layout`: x itself, or a reorder of it (one per value and layout). */
  as(x: number, layout: Layout): number {
    if (this.values[x].layout === layout) return x;
    const key = `${x} ${layout}`;
    let y = this.#reordered.get(key);
    if (y === undefined) {
      y = this.value([...this.values[x].shape], layout);
      this.steps.push({ op: 'reorder', x, y });
      this.#reordered.set(key, y);
    }
    return y;
  }

  conv(net: FusedNetwork, index: number, x0: number, residual0: number | null = null): number {
    const d = net.convs[index].def;
    const layout = this.rule.convLayout?.(index, this.values[x0].shape) ?? this.rule.layout;
    const x = this.as(x0, layout);
    const residual = residual0 === null ? null : this.as(residual0, layout);
    const [N, C, H, W] = this.values[x].shape;
    if (C !== d.inC) throw new ResnextError('ERR_RESNEXT_INTERNAL', `plan: ${d.name} expects ${d.inC} channels but receives ${C}`);
    const P = outSize(H, d.kernel, d.stride, d.padding),
      Q = outSize(W, d.kernel, d.stride, d.padding);
    if (P < 1 || Q < 1)
      throw new RangeError(
        `Expected an input large enough for ${d.name} (output ${P}x${Q}) for x.shape but received [${this.inputShape.join(', ')}]`,
      );
    const y = this.value([N, d.outC, P, Q], layout);
    this.steps.push({ op: 'conv', conv: index, x, y, residual });
    return y;
  }
}

/**
 * The plan for one input shape [N, C, H, W] with activations kept in `layout`
 * (or in the layouts a rule gives). Pure: the same arguments always give the same plan.
 */
export function compilePlan(net: FusedNetwork, inputShape: readonly number[], layouts: Layout | LayoutRule = 'NCHW'): NetworkPlan {
  const arch = net.arch;
  const rule: LayoutRule = typeof layouts === 'string' ? { layout: layouts } : layouts;
  const layout = rule.layout;
  const g = new Builder(rule, inputShape);
  const index = new Map(net.convs.map((c, i) => [c.def.name, i]));
  const conv = (d: ConvDef, x: number, residual: number | null = null): number => g.conv(net, index.get(d.name)!, x, residual);

  const input = g.value([...inputShape], 'NCHW');
  let x = conv(arch.stem, input);
  const firstConv = arch.stages.flat()[0]?.conv1;
  if (arch.maxPool) {
    x = g.as(x, layout);
    const [N, C, H, W] = g.values[x].shape;
    const { kernel, stride, padding } = STEM_POOL;
    const pooled = [N, C, outSize(H, kernel, stride, padding), outSize(W, kernel, stride, padding)];
    // The pool writes its first reader's layout when that is blocked and the lowering allows it.
    const next = firstConv && rule.blockedPools ? (rule.convLayout?.(index.get(firstConv.name)!, pooled) ?? layout) : layout;
    const y = g.value(pooled, blockSize(next) > 0 ? next : layout);
    g.steps.push({ op: 'maxPool2d', x, y, kernel, stride, padding });
    x = y;
  }
  for (const b of arch.stages.flat()) {
    const t1 = conv(b.conv1, x);
    const t2 = conv(b.conv2, t1);
    // The shortcut runs before conv3, which adds it in its epilogue.
    const shortcut = b.downsample ? conv(b.downsample, x) : x;
    x = conv(b.conv3, t2, shortcut);
  }
  if (!(rule.blockedPools && blockSize(g.values[x].layout) > 0)) x = g.as(x, layout);
  const [N, C] = g.values[x].shape;
  const pooled = g.value([N, C], 'NC');
  g.steps.push({ op: 'globalAvgPool', x, y: pooled });
  const logits = g.value([N, arch.numClasses], 'NC');
  g.steps.push({ op: 'linear', x: pooled, y: logits });

  markInPlace(g.values, g.steps, input, rule);
  const slots = assignSlots(g.values, g.steps, input);
  const plan: NetworkPlan = { inputShape: [...inputShape], layout, values: g.values, steps: g.steps, slots, input, output: logits };
  checkPlan(plan);
  return plan;
}

/** The values a step reads, in argument order. */
export function stepInputs(s: PlanStep): number[] {
  return s.op === 'conv' && s.residual !== null ? [s.x, s.residual] : [s.x];
}

/**
 * Sets inPlace on each conv step that may write over its residual: the rule
 * allows it for the conv, the step is the residual's last reader, the
 * residual is not the network input (the caller's), not also the step's x,
 * and has the output's size (it always has: same shape and layout).
 */
function markInPlace(values: PlanValue[], steps: PlanStep[], input: number, rule: LayoutRule): void {
  if (!rule.residualInPlace) return;
  const lastUse = lastUses(values, steps);
  steps.forEach((s, i) => {
    if (s.op !== 'conv' || s.residual === null || s.residual === input || s.residual === s.x) return;
    if (lastUse[s.residual] !== i || values[s.residual].size !== values[s.y].size) return;
    if (rule.residualInPlace!(s.conv)) s.inPlace = true;
  });
}

function lastUses(values: PlanValue[], steps: PlanStep[]): number[] {
  const lastUse = new Array<number>(values.length).fill(-1);
  steps.forEach((s, i) => {
    for (const v of stepInputs(s)) lastUse[v] = i;
  });
  return lastUse;
}

/**
 * Liveness: a value takes a free slot when it is produced (the smallest free
 * one that holds it, else the largest free one, grown) and gives it back after
 * its last reader. A step's inputs are released only after its output has a
 * slot, so no step writes a slot it reads, except an inPlace conv, whose
 * output takes its residual's slot (which passes to the output, not freed).
 * A reorder's output also keeps off the slots freed since its input was
 * produced: a CPU program may let that producer write the reorder's output
 * itself (a blocked 1x1 writing NCHW, native FuseReorders), which it may only
 * where that memory is not what the producer and the steps between read.
 */
function assignSlots(values: PlanValue[], steps: PlanStep[], input: number): number[] {
  const lastUse = lastUses(values, steps);
  const slots: number[] = [];
  const free: number[] = [];
  const freedAt = new Map<number, number>();
  const producer = new Array<number>(values.length).fill(-1);
  const release = (slot: number, i: number) => {
    free.push(slot);
    freedAt.set(slot, i);
  };
  steps.forEach((s, i) => {
    const v = values[s.y];
    producer[s.y] = i;
    if (s.op === 'conv' && s.inPlace && s.residual !== null) {
      v.slot = values[s.residual].slot;
      if (lastUse[s.x] === i && s.x !== input) release(values[s.x].slot, i);
      return;
    }
    const since = s.op === 'reorder' && producer[s.x] >= 0 ? producer[s.x] : Infinity;
    const usable = free.filter((f) => freedAt.get(f)! < since);
    let pick = -1;
    for (const f of usable) {
      if (slots[f] >= v.size && (pick < 0 || slots[f] < slots[pick])) pick = f;
    }
    if (pick < 0) for (const f of usable) if (pick < 0 || slots[f] > slots[pick]) pick = f;
    if (pick < 0) {
      pick = slots.length;
      slots.push(0);
    } else free.splice(free.indexOf(pick), 1);
    slots[pick] = Math.max(slots[pick], v.size);
    v.slot = pick;
    for (const u of new Set(stepInputs(s))) if (u !== input && lastUse[u] === i) release(values[u].slot, i);
  });
  return slots;
}

/**
 * The plan's invariants, checked for every compiled plan: each value has its
 * layout's size and fits its slot, every step sees the layouts it expects (a
 * conv's input, residual and output share one layout; the max pool reads the
 * plan's layout and writes it or a blocked one, the global average pool reads
 * either; a reorder changes the layout and nothing else), no step
 * writes a slot one of its inputs lives in (an inPlace conv writes exactly
 * its residual's slot and nothing else of its inputs', and is that
 * residual's last reader), and no value is overwritten before its last reader
 * has run.
 */
export function checkPlan(plan: NetworkPlan): void {
  const fail = (msg: string): never => {
    throw new ResnextError('ERR_RESNEXT_INTERNAL', `network plan for [${plan.inputShape.join(', ')}]: ${msg}`);
  };
  const owner = new Array<number>(plan.slots.length).fill(-1);
  plan.values.forEach((v, i) => {
    if (i === plan.input ? v.slot !== -1 : v.slot < 0 || v.slot >= plan.slots.length) fail(`value ${i} has slot ${v.slot}`);
    if (v.slot >= 0 && v.size > plan.slots[v.slot]) fail(`value ${i} (${v.size} elements) overflows slot ${v.slot}`);
    if (v.layout !== 'NC' && v.size !== layoutSize(v.shape, v.layout)) fail(`value ${i} has ${v.size} elements in ${v.layout}`);
  });
  const layoutOf = (v: number): Layout => plan.values[v].layout;
  plan.steps.forEach((s, i) => {
    const want = (v: number, layout: Layout): void => {
      if (layoutOf(v) !== layout) fail(`step ${i} (${s.op}) expects value ${v} in ${layout} but it is ${layoutOf(v)}`);
    };
    if (s.op === 'conv') {
      want(s.x, layoutOf(s.y));
      if (s.residual !== null) want(s.residual, layoutOf(s.y));
    } else if (s.op === 'reorder') {
      if (layoutOf(s.x) === layoutOf(s.y)) fail(`step ${i} (reorder) keeps layout ${layoutOf(s.x)}`);
      // A program has one block size (the native Network's): no conversion between two blocked layouts.
      if (blockSize(layoutOf(s.x)) > 0 && blockSize(layoutOf(s.y)) > 0)
        fail(`step ${i} (reorder) converts ${layoutOf(s.x)} to ${layoutOf(s.y)}: a program has one block size`);
      if (plan.values[s.x].shape.join() !== plan.values[s.y].shape.join()) fail(`step ${i} (reorder) changes the shape`);
    } else if (s.op === 'maxPool2d') {
      want(s.x, plan.layout);
      if (blockSize(layoutOf(s.y)) === 0) want(s.y, plan.layout);
    } else if (s.op === 'globalAvgPool') {
      if (blockSize(layoutOf(s.x)) === 0) want(s.x, plan.layout);
      want(s.y, 'NC');
    }
  });
  const written = new Set<number>([plan.input]);
  plan.steps.forEach((s, i) => {
    // The one slot an inPlace conv may write among its inputs': its residual's.
    const mayOverwrite = s.op === 'conv' && s.inPlace && s.residual !== s.x ? s.residual : null;
    for (const u of stepInputs(s)) {
      if (!written.has(u)) fail(`step ${i} (${s.op}) reads value ${u} before it is written`);
      if (u !== plan.input && owner[plan.values[u].slot] !== u) fail(`step ${i} (${s.op}) reads value ${u} after its slot was reused`);
      if (plan.values[u].slot === plan.values[s.y].slot && u !== mayOverwrite) fail(`step ${i} (${s.op}) writes the slot it reads`);
    }
    if (s.op === 'conv' && s.inPlace) {
      const r = s.residual;
      if (r === null || r === plan.input || plan.values[r].slot !== plan.values[s.y].slot)
        fail(`step ${i} (conv) is inPlace but does not write its residual's slot`);
      else if (plan.values[r].size !== plan.values[s.y].size) fail(`step ${i} (conv) is inPlace but its residual's size differs`);
      else if (plan.steps.some((t, j) => j > i && stepInputs(t).includes(r)))
        fail(`step ${i} (conv) is inPlace but value ${r} is read later`);
    }
    if (written.has(s.y)) fail(`value ${s.y} is written twice`);
    written.add(s.y);
    owner[plan.values[s.y].slot] = s.y;
  });
}
