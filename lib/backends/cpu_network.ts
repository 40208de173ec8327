// The CPU lowering of a network plan (lib/models/plan.ts). Weights: one
// native ConvPlan per folded conv, packed once per model. Per input shape the
// plan's arena slots become one Float32Array (each slot 64-byte aligned) and
// every activation an exact-size view of its slot, so a forward allocates only
// the logits it returns.
// Layouts (option `layout`): with 'auto' (the default) the stages whose
// activations are 56x56 and 28x28 in ImageNet (torchvision's layer1 and
// layer2) run in the blocked layout NCHW16c (AVX-512) or NCHW8c (AVX2,
// scalar): their 1x1, 3x3 (grouped and dense) and projection convs read and
// write it directly, the stem's max pool writes it from the stem's NCHW output
// (LayoutRule.blockedPools: no conversion into it), and the plan converts once
// out of it (before layer3; from batch 2, after layer3's first conv1 and
// projection shortcut, which read the blocked layout through blocked twins
// packed beside their NCHW plans: the blocked 1x1 is 1.15-1.2x the NCHW gemm
// there, which outweighs converting their two outputs instead of their one
// input). There the blocked 1x1 and grouped 3x3
// kernels beat NCHW gemm and direct kernels by 1.1-1.9x; at 14x14 and 7x7
// NCHW gemm and the grouped Winograd are level or faster
// (docs/network-profile.md). A stage runs blocked only when a blocked kernel
// runs every conv of it (a conversion pair around an NCHW conv measured 1-6%
// slower than all-NCHW); ResNet-50's dense 3x3s there run the blocked
// Winograd (stride 1) and direct (stride 2) kernels. 'blocked'
// runs every conv that has a blocked kernel so, with conversions around the
// others; 'nchw' none; the per-layer mode always runs NCHW.
// Kernel choice by measurement (option `tune`, default on in mode
// 'network'): where the cost model picked a transformed kernel (Winograd) for
// a conv, the network also packs the conv's direct plan (in the blocked
// layout: the blocked direct kernel, e.g. ResNet-50's layer1-2 3x3s, F(4x4)
// against direct; where the kernel names a rival, that instead: ResNet-50's
// layer3 3x3s, packed F(4x4) against F(4x4) transforming the raw weights per
// run). The first
// forward of an input shape then runs the whole program twice per round, once
// with the first choices and once with the alternates (one untimed round,
// then three, interleaved), on the caller's input, and keeps per conv the
// kernel whose step took less time inside the forward (weights cold from
// memory, neighbours' data in cache, as in real use), by the median over the
// rounds (repeated layers with the same input pool their times and share one
// choice); an alternate must win by 3% to displace the cost model's choice.
// The median, not the minimum: a kernel whose run is bound by its weight
// bytes sometimes finds them in cache at tune time, and its minimum then
// hides the steady state (ResNeXt-50's grouped layer3 3x3s at batch 1, packed
// F(4x4) against raw taps: minima 0.083 / 0.083 ms in one process, 0.109 /
// 0.080 in another; docs/network-profile.md section 28). Winners are cached for the process (key:
// the conv, its input shape, the candidates and the thread count), so another
// model of the same layers skips the measurement; planInfo() reports the
// candidates, the times and the choice per shape. With tune: false the cost
// model's choice stands and the alternates are never packed.
// In-place residuals: a blocked +residual conv whose kernel allows it (the
// blocked 1x1) writes its output over its residual when it is the residual's
// last reader (plan.ts, NetworkPlan step inPlace).
// Two ways to run a lowered plan, both off the event loop and on the same
// kernels and buffers (so they agree bit for bit):
//   'network' (default): the plan's steps become one native layer program
//     (Network.addProgram, native/napi/network_wrap.cc), run as one
//     worker-thread job: no event-loop round trip per layer;
//   'layer': each step is its own async native call, for diagnosing a layer.

import { cpuBinding, loadCpuBinding } from '../binding';
import { ERROR_CODES, ResnextError, rethrowNative } from '../errors';
import type { ConvPlanInfo, NetworkLowering, NetworkProgram, ProfileStep } from '../models/engine';
import { median } from '../cli/stats';
import { recallWinner, rememberWinner, type TuneChoice } from '../ops/conv2d_tune';
import type { Shape4 } from '../shape';
import { getNumThreads } from '../threads';
import { blockSize, compilePlan, foldedWeight, type FusedNetwork, type Layout, type NetworkPlan, type PlanStep } from '../models/plan';
import type { NativeConvPlan, NativeCpuBinding, NativeNetwork, NativeNetworkConv, NativeNetworkStep } from '../native_types';
import { HostStorage, Tensor } from '../tensor';

export type ForwardMode = 'network' | 'layer';

/** Which stages keep activations in the blocked layout: see the file comment. */
export type CpuLayout = 'auto' | 'blocked' | 'nchw';

export interface CpuNetworkOptions {
  /** Default 'network'. */
  mode?: ForwardMode;
  algorithm: 'auto' | 'direct';
  /** Default 'auto'. */
  layout?: CpuLayout;
  /** Kernel choice by measurement (mode 'network'); default true. See the file comment. */
  tune?: boolean;
}

/** Timed rounds per candidate program (after one untimed round); a step's times are pooled into a median. */
const TUNE_ROUNDS = 3;
/** Larger batches are timed on this many images (the choice at batch 8 and at 64 rarely differ; the cost does). */
const TUNE_MAX_BATCH = 8;
/** An alternate replaces the cost model's choice only when its step is this much faster. */
const TUNE_MARGIN = 0.97;

/**
 * One tune decision from a step's times (ms) under the cost model's choice and under the alternate, pooled over
 * rounds and repeated layers: each candidate's median (see the file comment), and whether the alternate wins.
 */
export function tuneDecision(samples: readonly [readonly number[], readonly number[]]): { ms: [number, number]; alternate: boolean } {
  const ms: [number, number] = [median(samples[0]), median(samples[1])];
  return { ms, alternate: ms[1] < TUNE_MARGIN * ms[0] };
}

/** The stages (the first of arch.stages) 'auto' runs blocked: torchvision's layer1 and layer2. */
const AUTO_BLOCKED_STAGES = 2;

/** For each stage, the indices of its convs in net.convs. */
function stageConvs(net: FusedNetwork): number[][] {
  const index = new Map(net.convs.map((c, i) => [c.def.name, i]));
  return net.arch.stages.map((blocks) =>
    blocks.flatMap((b) => [b.conv1, b.conv2, b.conv3, ...(b.downsample ? [b.downsample] : [])].map((d) => index.get(d.name)!)),
  );
}

/**
 * The batch from which the twins (file comment) run: at batches 2-8 conv1, shortcut and reorders together took
 * 4-6% less time, at batch 1 the blocked stride-2 shortcut and the larger reorders cost what conv1 gains
 * (docs/network-profile.md section 20).
 */
const BLOCKED_TWIN_MIN_BATCH = 2;

/** Slot offsets in floats: 16 floats = 64 bytes, one cache line and one AVX-512 vector. */
const ALIGN = 16;

/**
 * A conv for the native Network, which folds BatchNorm while it packs (weightScale): the folded weights
 * never exist in JS. `folded` gives the folded weights instead (a ConvPlan, which takes them as they are).
 */
function convSpec(
  c: FusedNetwork['convs'][number],
  algorithm: 'auto' | 'direct',
  blockedGroup?: number,
  folded = false,
): NativeNetworkConv {
  const d = c.def;
  const weight = folded ? foldedWeight(c) : c.rawWeight;
  return {
    weight: weight.dataSync(),
    ...(folded ? {} : { weightScale: c.scale }),
    shape: [...weight.shape],
    bias: c.bias.dataSync(),
    groups: d.groups,
    stride: [d.stride, d.stride],
    padding: [d.padding, d.padding, d.padding, d.padding],
    activation: c.activation,
    algorithm,
    ...(blockedGroup === undefined ? {} : { blockedGroup }),
  };
}

/**
 * One Float32Array for the plan's slots, starting at a 64-byte boundary; views[v] is value v's exact-size view (null
 * for the network input).
 */
function bindArena(b: NativeCpuBinding, plan: NetworkPlan): (Float32Array | null)[] {
  const offsets: number[] = [];
  let total = 0;
  for (const n of plan.slots) {
    offsets.push(total);
    total += Math.ceil(n / ALIGN) * ALIGN;
  }
  // A typed array's data starts only 16-byte aligned (malloc's header), so one ALIGN more and the first
  // 64-byte boundary in it: a 16-lane vector of an activation is then one cache line, not two.
  const raw = new Float32Array(Math.max(total, 1) + ALIGN);
  const skip = b.alignOffset?.(raw, ALIGN * 4) ?? 0;
  const arena = raw.subarray(skip, skip + Math.max(total, 1));
  return plan.values.map((v) => (v.slot < 0 ? null : arena.subarray(offsets[v.slot], offsets[v.slot] + v.size)));
}

function unsupported(s: PlanStep): never {
  throw new ResnextError('ERR_RESNEXT_INTERNAL', `the cpu lowering has no step '${s.op}' for this plan`);
}

export function cpuNetworkLowering(net: FusedNetwork, options: CpuNetworkOptions): NetworkLowering {
  const b = cpuBinding();
  if (!b) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, `The cpu backend is unavailable: ${loadCpuBinding().reason}`);
  return (options.mode ?? 'network') === 'network'
    ? programLowering(b, net, options.algorithm, options.layout ?? 'auto', options.tune ?? true)
    : layerLowering(b, net, options.algorithm);
}

function toInfo(
  net: FusedNetwork,
  i: number,
  p: { impl: string; isa: string; packedBytes: number },
  layout: Layout = 'NCHW',
): ConvPlanInfo {
  return { name: net.convs[i].def.name, backend: 'cpu', impl: p.impl, detail: p.isa, dtype: 'float32', packedBytes: p.packedBytes, layout };
}

type TuningInfo = { candidates: string[]; choices: TuneChoice[] };

function logitsOf(plan: NetworkPlan, views: (Float32Array | null)[]): Tensor {
  // A copy, so the caller's result survives the next forward.
  return new Tensor(new HostStorage(views[plan.output]!.slice()), [...plan.values[plan.output].shape]);
}

const STEP_NAMES: Record<string, string> = { reorder: 'reorder', maxPool2d: 'maxpool', globalAvgPool: 'avgpool', linear: 'fc' };

/** What model.profile reports for plan step s (see ProfileStep); impl: the kernel the step's conv ran. */
function profileStep(net: FusedNetwork, plan: NetworkPlan, s: PlanStep, impl: string | undefined, ms: number): ProfileStep {
  const x = plan.values[s.x],
    y = plan.values[s.y];
  return {
    op: s.op,
    name: s.op === 'conv' ? net.convs[s.conv].def.name : (STEP_NAMES[s.op] ?? s.op),
    layout: s.op === 'reorder' ? `${x.layout}->${y.layout}` : y.layout,
    ...(impl === undefined ? {} : { impl }),
    inputShape: [...x.shape],
    ms,
  };
}

function programLowering(
  b: NativeCpuBinding,
  net: FusedNetwork,
  algorithm: 'auto' | 'direct',
  layout: CpuLayout,
  tune: boolean,
): NetworkLowering {
  if (!b.Network) throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, 'The cpu addon lacks the native Network class');
  const stages = stageConvs(net);
  // 'blocked': every conv of every stage is its own blocked group (blocked when a blocked kernel runs it, else
  // NCHW between two reorders). 'auto': one group per candidate stage, so a stage runs blocked only when a blocked
  // kernel runs all of its convs (a reorder pair around an NCHW 3x3 measured 1-6% slower than all-NCHW:
  // docs/network-profile.md section 6); ResNet-50's layer1-2 run blocked with the dense 3x3 kernels (section 9).
  const groupOf = new Map<number, number>();
  stages.slice(0, layout === 'nchw' ? 0 : layout === 'auto' ? AUTO_BLOCKED_STAGES : stages.length).forEach((convs, stage) => {
    for (const i of convs) groupOf.set(i, layout === 'auto' ? stage : i);
  });
  const specs = net.convs.map((c, i) => ({ ...convSpec(c, algorithm, groupOf.get(i)), ...(tune ? { alternate: true } : {}) }));
  // The first block after the blocked stages: its conv1 and projection shortcut also get a blocked twin, which a
  // batch of BLOCKED_TWIN_MIN_BATCH or more runs on the last blocked stage's output (the reorder moves after them).
  const twinOf = new Map<number, number>();
  const next = layout === 'auto' ? net.arch.stages[AUTO_BLOCKED_STAGES]?.[0] : undefined;
  if (next?.downsample) {
    const index = new Map(net.convs.map((c, i) => [c.def.name, i]));
    for (const d of [next.conv1, next.downsample]) {
      const i = index.get(d.name)!;
      twinOf.set(i, specs.length);
      // Their own group: AUTO_BLOCKED_STAGES is no stage group's number under 'auto'.
      specs.push({ ...convSpec(net.convs[i], algorithm, AUTO_BLOCKED_STAGES), ...(tune ? { alternate: true } : {}) });
    }
  }
  let network: NativeNetwork;
  try {
    network = new b.Network(specs);
  } catch (err) {
    rethrowNative(err, 'network (cpu)');
  }
  const packed = network.info();
  const convLayouts: Layout[] = packed.map((p) => (p.blocked === null ? 'NCHW' : p.blocked.cb === 16 ? 'NCHW16c' : 'NCHW8c'));
  // The twins run only where both are blocked in the layout the last blocked stage ends in.
  const lastBlocked = stages[AUTO_BLOCKED_STAGES - 1]?.at(-1);
  const twinLayout = lastBlocked === undefined ? 'NCHW' : convLayouts[lastBlocked];
  if (twinLayout === 'NCHW' || [...twinOf.values()].some((t) => convLayouts[t] !== twinLayout)) twinOf.clear();
  /** The native conv a plan's conv step runs: the blocked twin when the plan gave it a blocked layout. */
  const nativeConv = (plan: NetworkPlan, i: number): number => {
    const s = plan.steps[i] as Extract<PlanStep, { op: 'conv' }>;
    return blockSize(plan.values[s.y].layout) > 0 ? (twinOf.get(s.conv) ?? s.conv) : s.conv;
  };
  // Per conv: the candidates and choices so far (null: one candidate), and the kernel of the latest lowered shape.
  const tuning: (TuningInfo | null)[] = packed.map((p) => (p.alternate ? { candidates: [p.impl, p.alternate.impl], choices: [] } : null));
  const latest: string[] = packed.map((p) => p.impl);
  const fcWeight = net.fc.weight.dataSync(),
    fcBias = net.fc.bias.dataSync();

  /** The native step records of a plan bound to views (alternate: the steps whose conv runs its alternate plan). */
  const stepsOf = (plan: NetworkPlan, views: (Float32Array | null)[], alternate: Set<number> = new Set()): NativeNetworkStep[] => {
    const shape = (v: number): number[] => [...plan.values[v].shape];
    return plan.steps.map((s, i): NativeNetworkStep => {
      const input = views[s.x],
        output = views[s.y]!;
      switch (s.op) {
        case 'conv': {
          const cb = blockSize(plan.values[s.y].layout);
          const residual = s.residual === null ? null : views[s.residual];
          const alt = alternate.has(i) ? { alternate: true } : {};
          if (cb !== 0)
            return { op: 'blockedConv', conv: nativeConv(plan, i), input, inputShape: shape(s.x), output, residual, cb, ...alt };
          return {
            op: 'conv',
            conv: s.conv,
            input,
            inputShape: shape(s.x),
            output,
            residual,
            ...alt,
          };
        }
        case 'reorder': {
          const from = plan.values[s.x].layout,
            to = plan.values[s.y].layout;
          if (from === 'NCHW' && blockSize(to) > 0) return { op: 'toBlocked', input, inputShape: shape(s.x), output, cb: blockSize(to) };
          if (blockSize(from) > 0 && to === 'NCHW')
            return { op: 'fromBlocked', input, inputShape: shape(s.x), output, cb: blockSize(from) };
          return unsupported(s);
        }
        case 'maxPool2d': {
          const cbIn = blockSize(plan.values[s.x].layout),
            cbOut = blockSize(plan.values[s.y].layout);
          return {
            op: 'maxPool2d',
            input,
            inputShape: shape(s.x),
            output,
            params: [s.kernel, s.kernel, s.stride, s.stride, s.padding, s.padding],
            ...(cbIn ? { cbIn } : {}),
            ...(cbOut ? { cbOut } : {}),
          };
        }
        case 'globalAvgPool': {
          const cb = blockSize(plan.values[s.x].layout);
          return { op: 'globalAvgPool', input, inputShape: shape(s.x), output, ...(cb ? { cb } : {}) };
        }
        case 'linear':
          return {
            op: 'linear',
            input,
            inputShape: shape(s.x),
            weight: fcWeight,
            weightShape: [...net.fc.weight.shape],
            bias: fcBias,
            output,
          };
        default:
          return unsupported(s);
      }
    });
  };
  const add = (plan: NetworkPlan, steps: NativeNetworkStep[]): number => {
    try {
      return network.addProgram(steps, plan.values[plan.input].size);
    } catch (err) {
      rethrowNative(err, 'network (cpu)');
    }
  };
  /**
   * Steps whose conv has an alternate (NCHW, or blocked in the same block size: the native Network decided); a
   * blocked twin (a 1x1, never transformed) has none.
   */
  const tunableSteps = (plan: NetworkPlan): number[] =>
    plan.steps.flatMap((s, i) => (s.op === 'conv' && nativeConv(plan, i) === s.conv && packed[s.conv].alternate ? [i] : []));

  /**
   * Per tunable conv of `plan`, the kernel to run: the process's earlier winner, or measured now by running
   * `plan` (bound to `views`) with the first choices and with the alternates on input x.
   */
  const choose = async (plan: NetworkPlan, views: (Float32Array | null)[], x: Float32Array): Promise<Map<number, Decision>> => {
    const tunable = tunableSteps(plan);
    const threads = getNumThreads();
    const keys = tunable.map((i) => tuneKey(net, plan, i, packed, threads));
    const out = new Map<number, Decision>();
    const measureSteps = new Set<number>();
    tunable.forEach((i, j) => {
      const k = recallWinner(keys[j]);
      if (k)
        out.set(convOf(plan, i), {
          chosen: k.chosen,
          timingsMs: { ...k.timingsMs },
          source: 'cached',
          shape: shape4(plan, plan.steps[i].x),
        });
      else measureSteps.add(i);
    });
    if (measureSteps.size === 0) return out;
    const times = new Map<number, [number[], number[]]>([...measureSteps].map((i) => [i, [[], []]]));
    const first = add(plan, stepsOf(plan, views));
    const second = add(plan, stepsOf(plan, views, measureSteps));
    try {
      for (let r = 0; r <= TUNE_ROUNDS; r++) {
        const a = new Float64Array(plan.steps.length),
          c = new Float64Array(plan.steps.length);
        await network.runAsync(first, x, a);
        await network.runAsync(second, x, c);
        // Round 0 warms caches and pages up, untimed.
        if (r > 0)
          for (const [i, t] of times) {
            t[0].push(a[i] / 1e6);
            t[1].push(c[i] / 1e6);
          }
      }
    } catch (err) {
      rethrowNative(err, 'forward (cpu)');
    } finally {
      network.dropProgram(first);
      network.dropProgram(second);
    }
    // One decision per key: repeated layers (same conv, same input) pool their steps' times and share a choice.
    const pooled = new Map<string, { steps: number[]; samples: [number[], number[]] }>();
    tunable.forEach((i, j) => {
      const t = times.get(i);
      if (!t) return;
      const p = pooled.get(keys[j]) ?? { steps: [], samples: [[], []] };
      p.steps.push(i);
      p.samples[0].push(...t[0]);
      p.samples[1].push(...t[1]);
      pooled.set(keys[j], p);
    });
    for (const [key, { steps, samples }] of pooled) {
      const d = tuneDecision(samples);
      const [c1, c2] = tuning[convOf(plan, steps[0])]!.candidates;
      const timingsMs = { [c1]: d.ms[0], [c2]: d.ms[1] };
      const chosen = d.alternate ? c2 : c1;
      rememberWinner(key, chosen, timingsMs);
      for (const i of steps) out.set(convOf(plan, i), { chosen, timingsMs, source: 'measured', shape: shape4(plan, plan.steps[i].x) });
    }
    return out;
  };

  const lowering: NetworkLowering = {
    layout: 'NCHW',
    convLayout: (i, inputShape) => (twinOf.has(i) && inputShape[0] >= BLOCKED_TWIN_MIN_BATCH ? twinLayout : convLayouts[i]),
    // A +residual conv whose kernels read each residual element before writing over it takes its residual's slot
    // (plan.ts): two arrays streamed instead of three. Only the blocked convs: there it measured 1.03-1.12x on the
    // +residual 1x1s at batches 1 and 8, while NCHW gemm, which also allows it, measured 0.96-0.97x at 14x14
    // batch 1 and level elsewhere (docs/network-profile.md section 13).
    residualInPlace: (i) => packed[i].blocked !== null && packed[i].residualInPlace,
    // The stem's max pool writes the first stage's blocked layout itself (no reorder of its 4x larger input, and
    // none after it), and the global average pool reads a blocked last stage directly.
    blockedPools: true,
    lower(plan): NetworkProgram {
      const views = bindArena(b, plan);
      // The tunable steps that run their conv's alternate (direct) plan in program `id`.
      const alternate = new Set<number>();
      let id = add(plan, stepsOf(plan, views));
      const tunable = tunableSteps(plan);
      for (const i of tunable) latest[convOf(plan, i)] = packed[convOf(plan, i)].impl;
      plan.steps.forEach((s, i) => {
        if (s.op === 'conv' && nativeConv(plan, i) !== s.conv) latest[s.conv] = packed[nativeConv(plan, i)].impl;
      });
      let tuned = tunable.length === 0;

      /** Chooses the kernel of each tunable step and rebinds `id` to the choices. */
      const tuneOn = async (x: Float32Array): Promise<void> => {
        const [N, ...chw] = plan.values[plan.input].shape;
        let decisions: Map<number, Decision>;
        if (N <= TUNE_MAX_BATCH) {
          decisions = await choose(plan, views, x);
        } else {
          // A large batch is timed on its first TUNE_MAX_BATCH images (a plan and buffers of that size, freed after).
          const sub = compilePlan(net, [TUNE_MAX_BATCH, ...chw], lowering);
          decisions = await choose(sub, bindArena(b, sub), x.subarray(0, sub.values[sub.input].size));
        }
        for (const i of tunable) {
          const s = plan.steps[i] as Extract<PlanStep, { op: 'conv' }>;
          const d = decisions.get(s.conv)!;
          const inputShape = shape4(plan, s.x);
          const choice: TuneChoice = {
            inputShape,
            chosen: d.chosen,
            timingsMs: { ...d.timingsMs },
            source: d.source,
            ...(d.shape.join('x') === inputShape.join('x') ? {} : { measuredOn: d.shape }),
          };
          if (choice.chosen === tuning[s.conv]!.candidates[1]) alternate.add(i);
          const list = tuning[s.conv]!.choices;
          const at = list.findIndex((c) => c.inputShape.join('x') === inputShape.join('x'));
          if (at >= 0) list.splice(at, 1);
          list.push(choice);
          latest[s.conv] = choice.chosen;
        }
        if (alternate.size > 0) {
          const next = add(plan, stepsOf(plan, views, alternate));
          network.dropProgram(id);
          id = next;
        }
        tuned = true;
      };
      const implOf = (s: PlanStep, i: number): string | undefined =>
        s.op !== 'conv' ? undefined : alternate.has(i) ? packed[s.conv].alternate!.impl : packed[nativeConv(plan, i)].impl;

      return {
        async run(x) {
          if (!tuned) await tuneOn(x.dataSync());
          try {
            await network.runAsync(id, x.dataSync());
          } catch (err) {
            rethrowNative(err, 'forward (cpu)');
          }
          return logitsOf(plan, views);
        },
        async profile(x) {
          if (!tuned) await tuneOn(x.dataSync());
          const ns = new Float64Array(plan.steps.length);
          const t0 = performance.now();
          try {
            await network.runAsync(id, x.dataSync(), ns);
          } catch (err) {
            rethrowNative(err, 'profile (cpu)');
          }
          const totalMs = performance.now() - t0;
          return {
            logits: logitsOf(plan, views),
            steps: plan.steps.map((s, i) => profileStep(net, plan, s, implOf(s, i), ns[i] / 1e6)),
            totalMs,
          };
        },
        dispose: () => network.dropProgram(id),
      };
    },
    info: () =>
      packed.slice(0, net.convs.length).map((p, i) => {
        const t = tuning[i];
        return {
          ...toInfo(net, i, p, convLayouts[i]),
          impl: latest[i],
          // What the conv holds: both candidates' packings when it has an alternate.
          packedBytes: [p, ...(twinOf.has(i) ? [packed[twinOf.get(i)!]] : [])].reduce(
            (n, q) => n + q.packedBytes + (q.alternate?.packedBytes ?? 0),
            0,
          ),
          ...(t ? { tuning: { candidates: [...t.candidates], choices: t.choices.map((c) => ({ ...c })) } } : {}),
        };
      }),
    dispose: () => network.dispose(),
  };
  return lowering;
}

/** A tuned conv's kernel for one shape, and the shape it was timed on. */
interface Decision {
  chosen: string;
  timingsMs: Record<string, number>;
  source: TuneChoice['source'];
  shape: Shape4;
}

function convOf(plan: NetworkPlan, i: number): number {
  return (plan.steps[i] as Extract<PlanStep, { op: 'conv' }>).conv;
}

/** The conv input shape of plan value v (NCHW). */
function shape4(plan: NetworkPlan, v: number): Shape4 {
  return [...plan.values[v].shape] as unknown as Shape4;
}

/** The process-wide key of a tunable step's measurement: the conv, its input, its candidates, the threads. */
function tuneKey(net: FusedNetwork, plan: NetworkPlan, i: number, packed: ReturnType<NativeNetwork['info']>, threads: number): string {
  const s = plan.steps[i] as Extract<PlanStep, { op: 'conv' }>;
  const c = net.convs[s.conv];
  const d = c.def;
  const p = packed[s.conv];
  return JSON.stringify([
    'network',
    d.inC,
    d.outC,
    d.kernel,
    d.groups,
    d.stride,
    d.padding,
    c.activation,
    s.residual !== null,
    plan.values[s.x].shape,
    p.impl,
    p.alternate?.impl,
    threads,
  ]);
}

function layerLowering(b: NativeCpuBinding, net: FusedNetwork, algorithm: 'auto' | 'direct'): NetworkLowering {
  const { maxPool2dAsync, globalAvgPoolAsync, linearAsync } = b;
  if (!maxPool2dAsync || !globalAvgPoolAsync || !linearAsync)
    throw new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, 'The cpu addon lacks the native pooling and linear layers');
  let plans: NativeConvPlan[];
  try {
    plans = net.convs.map((c) => {
      const s = convSpec(c, algorithm, undefined, true);
      return new b.ConvPlan(s.weight, s.shape, s.bias, { ...s, dilation: [1, 1] });
    });
  } catch (err) {
    rethrowNative(err, 'network (cpu)');
  }
  const fcWeight = net.fc.weight.dataSync(),
    fcBias = net.fc.bias.dataSync();
  return {
    layout: 'NCHW',
    lower(plan): NetworkProgram {
      const views = bindArena(b, plan);
      const shape = (v: number): number[] => [...plan.values[v].shape];
      return {
        async run(x) {
          const at = (v: number): Float32Array => views[v] ?? x.dataSync();
          try {
            for (const s of plan.steps) {
              const out = views[s.y]!;
              if (s.op === 'conv') await plans[s.conv].runAsync(at(s.x), shape(s.x), out, s.residual === null ? null : at(s.residual));
              else if (s.op === 'maxPool2d')
                await maxPool2dAsync.call(b, at(s.x), shape(s.x), out, [s.kernel, s.kernel, s.stride, s.stride, s.padding, s.padding]);
              else if (s.op === 'globalAvgPool') await globalAvgPoolAsync.call(b, at(s.x), shape(s.x), out);
              else if (s.op === 'linear') await linearAsync.call(b, at(s.x), shape(s.x), fcWeight, [...net.fc.weight.shape], fcBias, out);
              else unsupported(s);
            }
          } catch (err) {
            rethrowNative(err, 'forward (cpu)');
          }
          return logitsOf(plan, views);
        },
        dispose: () => {},
      };
    },
    info: () => plans.map((p, i) => toInfo(net, i, p.info())),
    // ConvPlan frees its packed weights at garbage collection (it has no dispose).
    dispose: () => {},
  };
}
