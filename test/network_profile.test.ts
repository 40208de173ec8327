// model.profile: one fused CPU forward timed step by step. The steps are the
// compiled plan's, in order, with planInfo()'s conv names and kernels; the
// logits equal forward's bit for bit; the native timings buffer is checked at
// the boundary (type, length, and a failed check leaves the program
// runnable); GPU backends refuse.

import { describe, expect, it } from 'vitest';

import { cpuBinding } from '../lib/binding';
import { ResnextError } from '../lib/errors';
import { compilePlan, fuseNetwork } from '../lib/models/plan';
import { resnext, resnext50_32x4d } from '../lib/models/presets';
import { randn } from '../lib/tensor';
import { nativeHostBackends } from './helpers/backends';
import { randomizeBatchNorm } from './helpers/models';

const hasCpu = nativeHostBackends().includes('cpu');

describe.runIf(hasCpu)('model.profile on the cpu backend', () => {
  const cases = [
    { layout: 'auto', shape: [1, 3, 64, 64] },
    { layout: 'nchw', shape: [2, 3, 57, 61] },
    { layout: 'blocked', shape: [1, 3, 45, 45] },
  ] as const;
  for (const c of cases) {
    it(`resnext50_32x4d x=[${c.shape.join(', ')}] layout ${c.layout}: plan steps in order, names, times, logits bit for bit`, async () => {
      const m = resnext50_32x4d({ seed: 5 });
      randomizeBatchNorm(m, 6);
      const x = randn([...c.shape] as number[], { seed: 8 });
      const fwd = (await m.forward(x, { backend: 'cpu', layout: c.layout })).dataSync();
      const p = await m.profile(x, { layout: c.layout });
      expect(p.logits.shape).toEqual([c.shape[0], 1000]);
      expect(p.logits.dataSync()).toEqual(fwd);
      const info = m.planInfo();
      // The plan compiled independently with the layouts planInfo reports: profile covers each step once, in order.
      const net = fuseNetwork(m.architecture, m.stateDict({ copy: true }));
      const plan = compilePlan(net, c.shape, { layout: 'NCHW', convLayout: (i) => info[i].layout, blockedPools: true }).steps;
      expect(p.steps.map((s) => s.op)).toEqual(plan.map((s) => s.op));
      const names: Record<string, string> = { reorder: 'reorder', maxPool2d: 'maxpool', globalAvgPool: 'avgpool', linear: 'fc' };
      expect(p.steps.map((s) => s.name)).toEqual(plan.map((s) => (s.op === 'conv' ? info[s.conv].name : names[s.op])));
      const convSteps = p.steps.filter((s) => s.op === 'conv');
      // Every conv runs once (in the plan's order, where a downsample may come before conv3), with planInfo's
      // name, kernel and layout.
      expect(convSteps.map((s) => s.name).sort()).toEqual(info.map((i) => i.name).sort());
      const byName = new Map(info.map((i) => [i.name, i]));
      for (const s of convSteps)
        expect({ impl: s.impl, layout: s.layout }).toEqual({ impl: byName.get(s.name)!.impl, layout: byName.get(s.name)!.layout });
      expect(p.steps[0]).toMatchObject({ op: 'conv', name: 'conv1', inputShape: [...c.shape] });
      expect(p.steps.at(-1)).toMatchObject({ op: 'linear', name: 'fc', inputShape: [c.shape[0], 2048] });
      const reorders = p.steps.filter((s) => s.op === 'reorder').map((s) => s.layout);
      if (c.layout === 'nchw') expect(reorders).toEqual([]);
      else for (const r of reorders) expect(r).toMatch(/^NCHW->NCHW(8|16)c$|^NCHW(8|16)c->NCHW$/);
      // The max pool writes layer1's layout itself (blocked unless 'nchw'): nothing reorders into layer1.
      const pool = p.steps.find((s) => s.op === 'maxPool2d')!;
      expect(pool.layout).toBe(info.find((i) => i.name === 'layer1.0.conv1')!.layout);
      if (c.layout !== 'nchw') expect(pool.layout).toMatch(/^NCHW(8|16)c$/);
      let sum = 0;
      for (const s of p.steps) {
        expect(s.ms).toBeGreaterThanOrEqual(0);
        expect(Number.isFinite(s.ms)).toBe(true);
        sum += s.ms;
      }
      // Convs do real work: a step reporting no time would mean the timings were never written.
      expect(convSteps.every((s) => s.ms > 0)).toBe(true);
      expect(sum).toBeLessThanOrEqual(p.totalMs + 0.5);
      m.dispose();
    });
  }

  it("profile after a mode 'layer' forward runs the network program; repeated profiles agree with each other and with forward", async () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4 });
    const x = randn([1, 3, 32, 32], { seed: 1 });
    await m.forward(x, { backend: 'cpu', mode: 'layer' });
    const a = await m.profile(x);
    const b = await m.profile(x);
    expect(b.logits.dataSync()).toEqual(a.logits.dataSync());
    expect(b.steps.length).toBe(a.steps.length);
    expect((await m.forward(x)).dataSync()).toEqual(a.logits.dataSync());
    m.dispose();
  });

  it('profile checks its arguments; GPU backends refuse with UNSUPPORTED', async () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4 });
    const x = randn([1, 3, 32, 32]);
    await expect(m.profile(randn([1, 4, 32, 32]))).rejects.toThrow(/3 input channels/);
    await expect(m.profile(x, { mode: 'layer' } as never)).rejects.toThrow(/options\.mode/);
    await expect(m.profile(x, { layout: 'nhwc' as never })).rejects.toThrow(RangeError);
    await expect(m.profile(x, { backend: 'reference' })).rejects.toMatchObject({ code: 'ERR_RESNEXT_UNSUPPORTED' });
    for (const backend of ['cuda', 'cudnn'] as const) {
      const err = await m.profile(x, { backend }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResnextError);
      expect(err).toMatchObject({ code: 'ERR_RESNEXT_UNSUPPORTED', message: expect.stringMatching(/cpu backend only/) });
    }
    m.dispose();
  });

  it('the native Network checks the timings buffer (type, length) and fills it with one time per step', async () => {
    const N = cpuBinding()!.Network!;
    const net = new N([
      {
        weight: new Float32Array(8).fill(1),
        shape: [2, 4, 1, 1],
        bias: null,
        groups: 1,
        stride: [1, 1],
        padding: [0, 0, 0, 0],
        activation: 'relu',
      },
    ]);
    const mid = new Float32Array(18),
      out = new Float32Array(18);
    const id = net.addProgram(
      [
        { op: 'conv', conv: 0, input: null, inputShape: [1, 4, 3, 3], output: mid, residual: null },
        { op: 'maxPool2d', input: mid, inputShape: [1, 2, 3, 3], output: out, params: [1, 1, 1, 1, 0, 0] },
      ] as never,
      36,
    );
    const x = new Float32Array(36).fill(1);
    for (const run of [(t: unknown) => net.run(id, x, t as never), (t: unknown) => net.runAsync(id, x, t as never)]) {
      expect(() => run(new Float64Array(1))).toThrow(RangeError);
      expect(() => run(new Float64Array(3))).toThrow(/timings: expected 2 elements \(one per step\) but received 3/);
      expect(() => run(new Float32Array(2))).toThrow(TypeError);
      expect(() => run([0, 0])).toThrow(/timings: expected a Float64Array/);
    }
    // A refused call leaves the program free to run.
    const t = new Float64Array(2).fill(-1);
    net.run(id, x, t);
    expect([...t].every((v) => v >= 0)).toBe(true);
    expect(out[0]).toBe(4);
    const u = new Float64Array(2).fill(-1);
    await net.runAsync(id, x, u);
    expect([...u].every((v) => v >= 0)).toBe(true);
    // Without timings the run path is unchanged.
    await net.runAsync(id, x);
    net.dispose();
  });
});
