// The network compiler (lib/models/plan.ts) and the engine's shape cache
// (lib/models/engine.ts), without running a network: the step order and
// shapes against the complexity walk (an independent derivation), the arena
// slots against the aliasing rule, explicit layout conversions, and the LRU
// cache's eviction order and disposal.

import { describe, expect, it } from 'vitest';

import { ResnextError } from '../lib/errors';
import { layerComplexity } from '../lib/models/complexity';
import { PlanCache } from '../lib/models/engine';
import {
  checkPlan,
  compilePlan,
  type FusedNetwork,
  fuseNetwork,
  type Layout,
  type LayoutRule,
  type NetworkPlan,
  stepInputs,
} from '../lib/models/plan';
import { resnext, resnext50_32x4d } from '../lib/models/presets';

const m50 = resnext50_32x4d({ seed: 1 });
const net50: FusedNetwork = fuseNetwork(m50.architecture, m50.stateDict({ copy: true }));

function convSteps(plan: NetworkPlan, net: FusedNetwork): { name: string; x: number[]; y: number[]; residual: number[] | null }[] {
  return plan.steps.flatMap((s) =>
    s.op === 'conv'
      ? [
          {
            name: net.convs[s.conv].def.name,
            x: plan.values[s.x].shape,
            y: plan.values[s.y].shape,
            residual: s.residual === null ? null : plan.values[s.residual].shape,
          },
        ]
      : [],
  );
}

describe('compilePlan: resnext50_32x4d x=[2, 3, 64, 64]', () => {
  const plan = compilePlan(net50, [2, 3, 64, 64]);

  it('steps: stem, max pool, per block conv1, conv2, shortcut, conv3 (residual), then avgpool and fc; 53 convs', () => {
    const ops = plan.steps.map((s) => s.op);
    expect(ops.slice(0, 2)).toEqual(['conv', 'maxPool2d']);
    expect(ops.slice(-2)).toEqual(['globalAvgPool', 'linear']);
    const convs = convSteps(plan, net50);
    expect(convs.length).toBe(53);
    const names = convs.map((c) => c.name);
    expect(names.slice(0, 5)).toEqual(['conv1', 'layer1.0.conv1', 'layer1.0.conv2', 'layer1.0.downsample.0', 'layer1.0.conv3']);
    expect(names.slice(5, 8)).toEqual(['layer1.1.conv1', 'layer1.1.conv2', 'layer1.1.conv3']);
    // Every conv3 adds a residual; nothing else does; the projection shortcut has no ReLU of its own.
    for (const s of plan.steps) {
      if (s.op !== 'conv') continue;
      const c = net50.convs[s.conv];
      expect(s.residual !== null).toBe(c.def.name.endsWith('conv3'));
      expect(c.activation).toBe(c.def.name.includes('downsample') ? 'none' : 'relu');
    }
  });

  it('every conv input and output shape equals the complexity walk (an independent derivation)', () => {
    const walk = new Map(
      layerComplexity(m50.architecture, [2, 3, 64, 64])
        .filter((l) => l.op === 'conv')
        .map((l) => [l.name, l]),
    );
    for (const c of convSteps(plan, net50)) {
      expect(c.x).toEqual(walk.get(c.name)!.inputShape);
      expect(c.y).toEqual(walk.get(c.name)!.outputShape);
      if (c.residual) expect(c.residual).toEqual(c.y);
    }
    expect(plan.values[plan.output].shape).toEqual([2, 1000]);
  });

  it('arena slots: no step writes a slot it reads, and the arena is smaller than the per-role buffers it replaces', () => {
    checkPlan(plan);
    for (const s of plan.steps)
      for (const u of stepInputs(s)) expect(plan.values[u].slot === plan.values[s.y].slot && u !== plan.input).toBe(false);
    const total = plan.slots.reduce((a, b) => a + b, 0);
    // What the per-role scheme allocated: stem and pool outputs, two ping-pong block outputs, t1, t2 and the shortcut.
    const size = (v: number[]): number => v.reduce((a, b) => a * b, 1);
    const roles = [
      2 * 64 * 32 * 32,
      2 * 64 * 16 * 16,
      2 * size([2, 256, 16, 16]),
      size([2, 128, 16, 16]),
      size([2, 128, 16, 16]),
      size([2, 256, 16, 16]),
    ];
    const before = roles.reduce((a, b) => a + b, 0);
    console.log(`resnext50_32x4d [2, 3, 64, 64]: ${plan.slots.length} slots, ${total} floats (per-role buffers: ${before})`);
    expect(plan.slots.length).toBeLessThanOrEqual(5);
    expect(total).toBeLessThan(before);
  });

  it('the same arguments give the same plan', () => {
    expect(compilePlan(net50, [2, 3, 64, 64])).toEqual(plan);
  });
});

describe('compilePlan layouts', () => {
  it("NHWC: one explicit reorder at the input; activations carry 'NHWC', pooled features and logits 'NC'", () => {
    const plan = compilePlan(net50, [1, 3, 32, 32], 'NHWC');
    expect(plan.steps[0]).toEqual({ op: 'reorder', x: plan.input, y: 1 });
    expect(plan.steps.filter((s) => s.op === 'reorder').length).toBe(1);
    expect(plan.values[plan.input]).toMatchObject({ layout: 'NCHW', slot: -1, shape: [1, 3, 32, 32] });
    const layouts = new Set(plan.values.slice(1, -2).map((v) => v.layout));
    expect([...layouts]).toEqual(['NHWC']);
    expect(plan.values.slice(-2).map((v) => v.layout)).toEqual(['NC', 'NC']);
    checkPlan(plan);
  });

  it('NCHW: no reorder; the stem reads the caller input directly (slot -1)', () => {
    const plan = compilePlan(net50, [1, 3, 32, 32]);
    expect(plan.steps.some((s) => s.op === 'reorder')).toBe(false);
    expect(plan.steps[0]).toMatchObject({ op: 'conv', x: plan.input });
  });

  // The CPU lowering's rule for 'auto' (lib/backends/cpu_network.ts), restated: layer1 and layer2 blocked.
  const stageRule = (net: FusedNetwork, stages: number, layout: Layout): LayoutRule => ({
    layout: 'NCHW',
    convLayout: (i) => ((/^layer(\d+)\./.exec(net.convs[i].def.name)?.[1] ?? '9') <= String(stages) ? layout : 'NCHW'),
  });

  /** Independently of checkPlan: each value's live range [producer, last reader]; two values live at once never share a slot. */
  function expectNoSharedLiveSlots(plan: NetworkPlan): void {
    const born = new Map<number, number>(),
      dies = new Map<number, number>();
    plan.steps.forEach((s, i) => {
      born.set(s.y, i);
      for (const u of stepInputs(s)) dies.set(u, i);
    });
    const live = [...born.keys()].map((v) => ({ v, from: born.get(v)!, to: dies.get(v) ?? born.get(v)! }));
    let pairs = 0;
    for (const a of live)
      for (const b of live) {
        if (a.v >= b.v || plan.values[a.v].slot !== plan.values[b.v].slot) continue;
        pairs++;
        // Sharing is fine only if one is dead before the other is written (a step's output may not take its input's slot).
        expect(a.to < b.from || b.to < a.from, `values ${a.v} and ${b.v} share slot ${plan.values[a.v].slot} while both live`).toBe(true);
      }
    expect(pairs).toBeGreaterThan(0); // slots are reused at all
  }

  it('NCHW16c for layer1-2 (the CPU auto rule): one reorder into the blocked layout, shared by layer1.0.conv1 and its shortcut, one out before layer3', () => {
    const plan = compilePlan(net50, [2, 3, 64, 64], stageRule(net50, 2, 'NCHW16c'));
    const reorders = plan.steps.flatMap((s, i) => (s.op === 'reorder' ? [{ i, s }] : []));
    expect(reorders.map(({ s }) => [plan.values[s.x].layout, plan.values[s.y].layout])).toEqual([
      ['NCHW', 'NCHW16c'],
      ['NCHW16c', 'NCHW'],
    ]);
    // Into blocked: the max pool's output, read by layer1.0.conv1 and layer1.0.downsample.0.
    const into = reorders[0].s;
    expect(plan.steps[reorders[0].i - 1]).toMatchObject({ op: 'maxPool2d', y: into.x });
    const readers = plan.steps
      .filter((s) => stepInputs(s).includes(into.y))
      .map((s) => (s.op === 'conv' ? net50.convs[s.conv].def.name : s.op));
    expect(readers).toEqual(['layer1.0.conv1', 'layer1.0.downsample.0']);
    // Out of blocked: layer2.3's output, read by layer3.0.conv1 and layer3.0.downsample.0.
    const out = reorders[1].s;
    const producer = plan.steps.find((s) => s.y === out.x)!;
    expect(producer.op === 'conv' && net50.convs[producer.conv].def.name).toBe('layer2.3.conv3');
    const outReaders = plan.steps
      .filter((s) => stepInputs(s).includes(out.y))
      .map((s) => (s.op === 'conv' ? net50.convs[s.conv].def.name : s.op));
    expect(outReaders).toEqual(['layer3.0.conv1', 'layer3.0.downsample.0']);
    // Every conv sees its own layout on x, residual and y.
    for (const s of plan.steps)
      if (s.op === 'conv') {
        const want = /^layer[12]\./.test(net50.convs[s.conv].def.name) ? 'NCHW16c' : 'NCHW';
        for (const v of [s.x, s.y, ...(s.residual === null ? [] : [s.residual])]) expect(plan.values[v].layout).toBe(want);
      }
    expectNoSharedLiveSlots(plan);
  });

  it('NCHW8c for every stage of resnext50 (C=3, d=4): 12- and 24-channel values padded to whole blocks; a reorder before the average pool', () => {
    const m = resnext({ depth: 50, cardinality: 3, width: 4, numClasses: 10, seed: 1 });
    const net = fuseNetwork(m.architecture, m.stateDict({ copy: true }));
    const plan = compilePlan(net, [1, 3, 57, 61], stageRule(net, 4, 'NCHW8c'));
    expect(plan.steps.filter((s) => s.op === 'reorder').length).toBe(2);
    const last = plan.steps.length - 3;
    expect(plan.steps[last]).toMatchObject({ op: 'reorder' });
    expect(plan.steps[last + 1]).toMatchObject({ op: 'globalAvgPool', x: plan.steps[last].y });
    const conv1 = plan.steps.find((s) => s.op === 'conv' && net.convs[s.conv].def.name === 'layer1.0.conv1')!;
    const v = plan.values[conv1.y];
    expect(v.shape).toEqual([1, 12, 15, 16]);
    expect(v.size).toBe(16 * 15 * 16); // 12 channels in 2 blocks of 8
    const v16 = compilePlan(net, [1, 3, 57, 61], stageRule(net, 4, 'NCHW16c')).values[conv1.y];
    expect(v16.size).toBe(16 * 15 * 16); // 1 block of 16
    const l2 = plan.steps.find((s) => s.op === 'conv' && net.convs[s.conv].def.name === 'layer2.0.conv1')!;
    expect(plan.values[l2.y].size).toBe(24 * 15 * 16);
    expect(compilePlan(net, [1, 3, 57, 61], stageRule(net, 4, 'NCHW16c')).values[l2.y].size).toBe(32 * 15 * 16);
    expectNoSharedLiveSlots(plan);
  });

  it('blockedPools (the CPU lowering): the max pool writes layer1 NCHW16c from the NCHW stem (no reorder there), one reorder out before layer3', () => {
    const plan = compilePlan(net50, [2, 3, 64, 64], { ...stageRule(net50, 2, 'NCHW16c'), blockedPools: true });
    const reorders = plan.steps.filter((s) => s.op === 'reorder');
    expect(reorders.map((s) => [plan.values[s.x].layout, plan.values[s.y].layout])).toEqual([['NCHW16c', 'NCHW']]);
    const pool = plan.steps.findIndex((s) => s.op === 'maxPool2d');
    const ps = plan.steps[pool];
    expect(plan.values[ps.x].layout).toBe('NCHW');
    expect(plan.values[ps.y]).toMatchObject({ layout: 'NCHW16c', shape: [2, 64, 16, 16], size: 2 * 64 * 16 * 16 });
    const readers = plan.steps
      .filter((s) => stepInputs(s).includes(ps.y))
      .map((s) => (s.op === 'conv' ? net50.convs[s.conv].def.name : s.op));
    expect(readers).toEqual(['layer1.0.conv1', 'layer1.0.downsample.0']);
    expectNoSharedLiveSlots(plan);
  });

  it('blockedPools with every stage blocked (NCHW8c, 12 channels after the stem): no reorder at all; the average pool reads layer4 blocked', () => {
    const m = resnext({ depth: 50, cardinality: 3, width: 4, numClasses: 10, seed: 1 });
    const net = fuseNetwork(m.architecture, m.stateDict({ copy: true }));
    const plan = compilePlan(net, [1, 3, 57, 61], { ...stageRule(net, 4, 'NCHW8c'), blockedPools: true });
    expect(plan.steps.some((s) => s.op === 'reorder')).toBe(false);
    const pool = plan.steps.find((s) => s.op === 'maxPool2d')!;
    expect(plan.values[pool.y].layout).toBe('NCHW8c');
    const avg = plan.steps.find((s) => s.op === 'globalAvgPool')!;
    expect(plan.values[avg.x].layout).toBe('NCHW8c');
    expect(plan.values[avg.y].layout).toBe('NC');
    // Without the flag the same rule keeps both pools NCHW, with a reorder after the one and before the other.
    const plain = compilePlan(net, [1, 3, 57, 61], stageRule(net, 4, 'NCHW8c'));
    expect(plain.steps.filter((s) => s.op === 'reorder').length).toBe(2);
    expectNoSharedLiveSlots(plan);
  });

  it('resnet50 with layer1-2 1x1s blocked and their dense 3x3s NCHW: a reorder pair around each 3x3, nothing else', () => {
    const m = resnext({ depth: 50, cardinality: 1, width: 64, numClasses: 10, seed: 1 });
    const net = fuseNetwork(m.architecture, m.stateDict({ copy: true }));
    const blocked = stageRule(net, 2, 'NCHW16c');
    const rule: LayoutRule = {
      layout: 'NCHW',
      convLayout: (i, shape) => (net.convs[i].def.kernel === 3 ? 'NCHW' : blocked.convLayout!(i, shape)),
    };
    const plan = compilePlan(net, [1, 3, 57, 61], rule);
    const reorders = plan.steps.filter((s) => s.op === 'reorder');
    // In after the max pool, out before layer3, and out/in around each of layer1-2's 7 3x3s.
    expect(reorders.length).toBe(2 + 2 * 7);
    plan.steps.forEach((s, i) => {
      if (s.op !== 'conv' || net.convs[s.conv].def.kernel !== 3 || !/^layer[12]\./.test(net.convs[s.conv].def.name)) return;
      expect(plan.steps[i - 1]).toMatchObject({ op: 'reorder', y: s.x });
      // Its output goes back to NCHW16c for conv3 (after the block's shortcut, when it has one).
      const back = plan.steps.find((t) => t.op === 'reorder' && t.x === s.y)!;
      expect(plan.values[back.y].layout).toBe('NCHW16c');
      const reader = plan.steps.find((t) => t.op === 'conv' && t.x === back.y)!;
      expect(reader.op === 'conv' && net.convs[reader.conv].def.name).toBe(net.convs[s.conv].def.name.replace('conv2', 'conv3'));
    });
    expectNoSharedLiveSlots(plan);
  });

  it('checkPlan refuses a conv that reads a value in another layout, a no-op reorder, a blocked value without its padding and a reorder between block sizes', () => {
    const plan = compilePlan(net50, [1, 3, 32, 32], stageRule(net50, 2, 'NCHW16c'));
    const broken = structuredClone(plan);
    const r = broken.steps.findIndex((s) => s.op === 'reorder');
    const s = broken.steps[r] as { x: number; y: number };
    // Skip the reorder: layer1.0.conv1 now reads the NCHW max pool output.
    for (const t of broken.steps) if (t.op === 'conv' && t.x === s.y) t.x = s.x;
    expect(() => checkPlan(broken)).toThrow(/expects value \d+ in NCHW16c but it is NCHW/);
    const noop = structuredClone(plan);
    noop.values[(noop.steps[r] as { y: number }).y].layout = 'NCHW';
    expect(() => checkPlan(noop)).toThrow(/keeps layout NCHW|in NCHW16c but it is NCHW/);
    const small = structuredClone(plan);
    const c = small.values.findIndex((v) => v.layout === 'NCHW16c');
    small.values[c] = { ...small.values[c], layout: 'NCHW8c' };
    expect(() => checkPlan(small)).toThrow(/NCHW16c but it is NCHW8c|elements in NCHW8c/);
    // A reorder between two block sizes (the native program has one): the max pool writing NCHW8c.
    const twoBlocked = structuredClone(plan);
    twoBlocked.values[(twoBlocked.steps[r] as { x: number }).x].layout = 'NCHW8c';
    expect(() => checkPlan(twoBlocked)).toThrow(/converts NCHW8c to NCHW16c: a program has one block size/);
    expect(() => checkPlan(plan)).not.toThrow();
  });

  it('CIFAR resnext29: no max pool step on x=[1,3,8,8]', () => {
    const m = resnext({ depth: 29, cardinality: 2, width: 2, numClasses: 10 });
    const net = fuseNetwork(m.architecture, m.stateDict({ copy: true }));
    expect(compilePlan(net, [1, 3, 8, 8]).steps.some((s) => s.op === 'maxPool2d')).toBe(false);
  });
});

describe('checkPlan refuses broken plans', () => {
  const fresh = (): NetworkPlan => structuredClone(compilePlan(net50, [1, 3, 32, 32]));

  it("conv3 writing its residual's slot (in-place residual) is refused", () => {
    const plan = fresh();
    const s = plan.steps.find((t) => t.op === 'conv' && t.residual !== null)!;
    if (s.op !== 'conv' || s.residual === null) throw new Error('unreachable');
    plan.values[s.y].slot = plan.values[s.residual].slot;
    expect(() => checkPlan(plan)).toThrow(ResnextError);
    expect(() => checkPlan(plan)).toThrow(/writes the slot it reads/);
  });

  it('a block input overwritten (by conv2 of the same block) before conv3 reads it as the residual is refused', () => {
    const plan = fresh();
    const conv1 = plan.steps.findIndex((t) => t.op === 'conv' && net50.convs[t.conv].def.name === 'layer1.1.conv1');
    const c1 = plan.steps[conv1];
    const c2 = plan.steps[conv1 + 1];
    // conv2 of the block writes into the block input's slot, which conv3 still needs as its residual.
    plan.values[c2.y].slot = plan.values[c1.x].slot;
    plan.slots[plan.values[c1.x].slot] = Math.max(plan.slots[plan.values[c1.x].slot], plan.values[c2.y].size);
    expect(() => checkPlan(plan)).toThrow(/after its slot was reused/);
  });

  it('a value larger than its slot is refused', () => {
    const plan = fresh();
    plan.slots[plan.values[1].slot] = plan.values[1].size - 1;
    expect(() => checkPlan(plan)).toThrow(/overflows slot/);
  });
});

describe('in-place residuals (LayoutRule.residualInPlace)', () => {
  const conv3s = (plan: NetworkPlan) => plan.steps.filter((s) => s.op === 'conv' && s.residual !== null);
  // The CPU auto rule's layouts (layer1-2 blocked), with every conv allowed to write over its residual.
  const blocked = new Set(net50.convs.flatMap((c, i) => (/^layer[12]\./.test(c.def.name) ? [i] : [])));
  const rule: LayoutRule = { layout: 'NCHW', convLayout: (i) => (blocked.has(i) ? 'NCHW16c' : 'NCHW'), residualInPlace: () => true };

  it("every conv3 (its residual's last reader) writes into its residual's slot; checkPlan accepts it; the arena is no larger", () => {
    const plan = compilePlan(net50, [2, 3, 64, 64], rule);
    const plain = compilePlan(net50, [2, 3, 64, 64], { ...rule, residualInPlace: undefined });
    expect(conv3s(plan).length).toBe(16);
    for (const s of conv3s(plan)) {
      if (s.op !== 'conv' || s.residual === null) throw new Error('unreachable');
      expect(s.inPlace).toBe(true);
      expect(plan.values[s.y].slot).toBe(plan.values[s.residual].slot);
      expect(plan.values[s.x].slot).not.toBe(plan.values[s.y].slot);
    }
    expect(conv3s(plain).some((s) => s.op === 'conv' && s.inPlace)).toBe(false);
    expect(() => checkPlan(plan)).not.toThrow();
    const total = (p: NetworkPlan): number => p.slots.reduce((a, b) => a + b, 0);
    expect(total(plan)).toBeLessThanOrEqual(total(plain));
  });

  it('only the convs the rule allows; never without a rule (the default plan)', () => {
    const allowed = net50.convs.findIndex((c) => c.def.name === 'layer2.1.conv3');
    const plan = compilePlan(net50, [1, 3, 32, 32], { ...rule, residualInPlace: (i) => i === allowed });
    expect(conv3s(plan).flatMap((s) => (s.op === 'conv' && s.inPlace ? [net50.convs[s.conv].def.name] : []))).toEqual(['layer2.1.conv3']);
    expect(compilePlan(net50, [1, 3, 32, 32]).steps.some((s) => s.op === 'conv' && s.inPlace)).toBe(false);
  });

  it('checkPlan refuses an inPlace conv that writes elsewhere, whose residual is read later, or that writes its x', () => {
    const fresh = (): NetworkPlan => structuredClone(compilePlan(net50, [1, 3, 32, 32], rule));
    const at = (plan: NetworkPlan, name: string): number =>
      plan.steps.findIndex((t) => t.op === 'conv' && net50.convs[t.conv].def.name === name);
    // Writes a fresh slot while marked inPlace.
    let plan = fresh();
    let i = at(plan, 'layer1.1.conv3');
    let s = plan.steps[i];
    if (s.op !== 'conv' || s.residual === null) throw new Error('unreachable');
    plan.values[s.y].slot = plan.slots.length;
    plan.slots.push(plan.values[s.y].size);
    expect(() => checkPlan(plan)).toThrow(/inPlace but does not write its residual's slot/);
    // A later step reads the residual the conv wrote over.
    plan = fresh();
    i = at(plan, 'layer1.1.conv3');
    s = plan.steps[i];
    if (s.op !== 'conv' || s.residual === null) throw new Error('unreachable');
    const next = plan.steps[i + 1];
    if (next.op !== 'conv') throw new Error('unreachable');
    next.residual = s.residual;
    expect(() => checkPlan(plan)).toThrow(/inPlace but value \d+ is read later/);
    // The conv also reads its output slot as x.
    plan = fresh();
    i = at(plan, 'layer3.1.conv3');
    s = plan.steps[i];
    if (s.op !== 'conv' || s.residual === null) throw new Error('unreachable');
    plan.values[s.x].slot = plan.values[s.y].slot;
    expect(() => checkPlan(plan)).toThrow(ResnextError);
  });
});

describe('PlanCache (the per-input-shape program cache of every device)', () => {
  const entry = (log: string[], name: string) => ({ name, dispose: () => log.push(name) });

  it('capacity 2: a hit makes an entry most recently used; the least recently used one is disposed on eviction', () => {
    const log: string[] = [];
    const c = new PlanCache<{ name: string; dispose(): void }>(2);
    let made = 0;
    const get = (k: string) =>
      c.getOrCreate(k, () => {
        made++;
        return entry(log, k);
      });
    get('a');
    get('b');
    expect(get('a').name).toBe('a');
    expect(made).toBe(2);
    get('c'); // evicts b, the least recently used
    expect(log).toEqual(['b']);
    expect(c.size).toBe(2);
    get('a');
    expect(made).toBe(3);
    get('b'); // evicts c
    expect(log).toEqual(['b', 'c']);
    c.clear();
    expect(log.slice(2).sort()).toEqual(['a', 'b']);
    expect(c.size).toBe(0);
  });
});
