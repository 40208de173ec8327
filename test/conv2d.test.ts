// One suite for every available native host backend, each compared with the
// float64 TS reference. Deterministic sweep + property-based sweep (fast-check)
// + the paper's form (b) equivalence + epilogues + caller-provided outputs.
// Tolerance: normwise relative error <= 1e-4 (see helpers/compare.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { type Conv2dOptions, conv2d, conv2dPlan, randn, tensor, zeros } from '../lib';
import { nativeHostBackends } from './helpers/backends';
import { REL_TOL, relErr } from './helpers/compare';
import { type Case, caseName } from './helpers/kernel_cases';

function run(t: Case, backend: string, extra: Partial<Conv2dOptions> = {}, seed = 1) {
  const x = randn([t.n, t.c, t.h, t.w], { seed });
  const w = randn([t.k, t.c / t.groups, t.r, t.s], { seed: seed + 1 });
  const opts = { groups: t.groups, stride: t.stride, dilation: t.dilation, padding: t.padding, ...extra };
  const y = conv2d(x, w, { ...opts, backend: backend as 'cpu' });
  const r = conv2d(x, w, { ...opts, backend: 'reference' });
  return { y, r };
}

// The deterministic battery: odd channels (17), groups that are neither 1 nor C
// (3), depthwise, ResNeXt's 32 groups, strides 1/2/3, dilation 2, asymmetric
// padding, batch 5, non-square inputs and kernels, kernels 1/3/5/7, width-1 outputs.
const battery: Case[] = [
  { n: 1, c: 17, h: 9, w: 11, k: 17, r: 3, s: 3, groups: 1, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 18, h: 9, w: 7, k: 21, r: 3, s: 3, groups: 3, stride: 2, dilation: 2, padding: [1, 2, 0, 1] },
  { n: 2, c: 17, h: 10, w: 13, k: 17, r: 3, s: 3, groups: 17, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 96, h: 12, w: 12, k: 96, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 96, h: 13, w: 11, k: 96, r: 3, s: 3, groups: 32, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 96, h: 8, w: 8, k: 48, r: 1, s: 1, groups: 4, stride: 1, dilation: 1, padding: 0 },
  { n: 3, c: 64, h: 7, w: 9, k: 32, r: 1, s: 1, groups: 1, stride: 2, dilation: 1, padding: 0 },
  { n: 1, c: 3, h: 23, w: 19, k: 8, r: 7, s: 7, groups: 1, stride: 2, dilation: 1, padding: 3 },
  { n: 2, c: 12, h: 11, w: 14, k: 12, r: 5, s: 5, groups: 2, stride: 1, dilation: 2, padding: [4, 3, 2, 1] },
  { n: 1, c: 8, h: 9, w: 5, k: 4, r: 3, s: 5, groups: 4, stride: [2, 1], dilation: [1, 2], padding: [1, 4] },
  { n: 5, c: 6, h: 5, w: 5, k: 9, r: 5, s: 5, groups: 3, stride: 3, dilation: 1, padding: 0 },
  { n: 1, c: 4, h: 7, w: 1, k: 4, r: 3, s: 1, groups: 2, stride: 1, dilation: 1, padding: [1, 0] },
  { n: 1, c: 16, h: 1, w: 1, k: 8, r: 1, s: 1, groups: 1, stride: 1, dilation: 1, padding: 0 },
  { n: 2, c: 16, h: 3, w: 3, k: 16, r: 3, s: 3, groups: 16, stride: 1, dilation: 1, padding: 0 },
  { n: 1, c: 128, h: 14, w: 14, k: 128, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 15, w: 15, k: 64, r: 3, s: 3, groups: 4, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 20, h: 6, w: 40, k: 40, r: 3, s: 3, groups: 4, stride: 1, dilation: 3, padding: 3 },
];

const hostBackends = nativeHostBackends();

describe.each(hostBackends)('conv2d on %s vs the float64 reference (relErr <= 1e-4)', (backend) => {
  it.each(battery.map((t) => [caseName(t), t] as const))('%s', (_name, t) => {
    const { y, r } = run(t, backend);
    expect(y.shape).toEqual(r.shape);
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
  });

  it.each(battery.slice(0, 6).map((t) => [caseName(t), t] as const))('%s with bias, residual and relu fused', (_name, t) => {
    const k = t.k;
    const bias = randn([k], { seed: 7 });
    const probe = run(t, 'reference');
    const residual = randn(probe.r.shape.slice() as [number, number, number, number], { seed: 8 });
    const { y, r } = run(t, backend, { bias, residual, activation: 'relu' });
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
    // ReLU really ran: no negatives, and some zeros.
    expect(y.dataSync().every((v) => v >= 0)).toBe(true);
    expect(y.dataSync().some((v) => v === 0)).toBe(true);
  });

  it('property: random shapes and options agree with the reference', () => {
    const arb = fc
      .record({
        n: fc.integer({ min: 1, max: 5 }),
        cg: fc.integer({ min: 1, max: 9 }),
        kg: fc.integer({ min: 1, max: 9 }),
        groups: fc.constantFrom(1, 2, 3, 4, 32),
        h: fc.integer({ min: 1, max: 12 }),
        w: fc.integer({ min: 1, max: 20 }),
        r: fc.constantFrom(1, 2, 3, 5),
        s: fc.constantFrom(1, 3, 4, 7),
        sh: fc.integer({ min: 1, max: 3 }),
        sw: fc.integer({ min: 1, max: 3 }),
        dh: fc.integer({ min: 1, max: 2 }),
        dw: fc.integer({ min: 1, max: 2 }),
        pad: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
        bias: fc.boolean(),
        relu: fc.boolean(),
        seed: fc.nat(1000),
      })
      .filter((t) => t.h + t.pad[0] + t.pad[2] >= t.dh * (t.r - 1) + 1 && t.w + t.pad[1] + t.pad[3] >= t.dw * (t.s - 1) + 1);
    fc.assert(
      fc.property(arb, (t) => {
        const c = t.cg * t.groups,
          k = t.kg * t.groups;
        const x = randn([t.n, c, t.h, t.w], { seed: t.seed });
        const w = randn([k, t.cg, t.r, t.s], { seed: t.seed + 1 });
        const opts: Conv2dOptions = {
          groups: t.groups,
          stride: [t.sh, t.sw],
          dilation: [t.dh, t.dw],
          padding: t.pad,
          activation: t.relu ? 'relu' : 'none',
          bias: t.bias ? randn([k], { seed: t.seed + 2 }) : undefined,
        };
        const y = conv2d(x, w, { ...opts, backend: backend as 'cpu' });
        const r = conv2d(x, w, { ...opts, backend: 'reference' });
        expect(y.shape).toEqual(r.shape);
        expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
      }),
      { numRuns: 150, seed: 42 },
    );
  });

  it("x=[2,12,9,9] g=3: grouped conv equals per-group dense convs concatenated (the paper's form (b))", () => {
    const [N, C, H, W, K, G] = [2, 12, 9, 9, 9, 3];
    const x = randn([N, C, H, W], { seed: 3 });
    const w = randn([K, C / G, 3, 3], { seed: 4 });
    const grouped = conv2d(x, w, { groups: G, padding: 1, backend: backend as 'cpu' }).dataSync();
    const xd = x.dataSync(),
      wd = w.dataSync();
    const Cg = C / G,
      Kg = K / G;
    for (let g = 0; g < G; g++) {
      // Slice the group's input channels and weights, run a dense conv, compare the channel block.
      const xs = new Float32Array(N * Cg * H * W);
      for (let n = 0; n < N; n++) xs.set(xd.subarray((n * C + g * Cg) * H * W, (n * C + (g + 1) * Cg) * H * W), n * Cg * H * W);
      const ws = wd.slice(g * Kg * Cg * 9, (g + 1) * Kg * Cg * 9);
      const dense = conv2d(tensor(xs, [N, Cg, H, W]), tensor(ws, [Kg, Cg, 3, 3]), { padding: 1, backend: backend as 'cpu' }).dataSync();
      for (let n = 0; n < N; n++) {
        const got = grouped.subarray((n * K + g * Kg) * H * W, (n * K + (g + 1) * Kg) * H * W);
        const want = dense.subarray(n * Kg * H * W, (n + 1) * Kg * H * W);
        expect(relErr(got, want)).toBeLessThanOrEqual(REL_TOL);
      }
    }
  });

  it('plan: run many times, into a caller-provided out tensor, same result each time', () => {
    const w = randn([64, 2, 3, 3], { seed: 5 });
    const plan = conv2dPlan(w, { groups: 32, padding: 1, backend: backend as 'cpu' });
    const x = randn([2, 64, 10, 10], { seed: 6 });
    const out = zeros([2, 64, 10, 10]);
    const first = plan.run(x, { out });
    expect(first).toBe(out);
    const snapshot = out.dataSync().slice();
    out.dataSync().fill(123);
    plan.run(x, { out });
    expect(Array.from(out.dataSync())).toEqual(Array.from(snapshot));
    const ref = conv2d(x, w, { groups: 32, padding: 1, backend: 'reference' });
    expect(relErr(snapshot, ref.dataSync())).toBeLessThanOrEqual(REL_TOL);
    expect(typeof plan.info().impl).toBe('string');
    plan.dispose();
    expect(() => plan.run(x)).toThrow(expect.objectContaining({ name: 'ResnextError', code: 'ERR_RESNEXT_DISPOSED' }));
  });

  it('plan: the weights are packed at creation, so later writes to the weight tensor do not change results', () => {
    const w = randn([8, 4, 3, 3], { seed: 9 });
    const x = randn([1, 8, 6, 6], { seed: 10 });
    const plan = conv2dPlan(w, { groups: 2, padding: 1, backend: backend as 'cpu' });
    const before = plan.run(x).dataSync().slice();
    w.dataSync().fill(0);
    const after = plan.run(x).dataSync();
    expect(Array.from(after)).toEqual(Array.from(before));
  });
});

describe('conv2d defaults', () => {
  it('uses the fastest available backend when none is named, and groups defaults to 1', () => {
    const x = randn([1, 4, 5, 5], { seed: 1 });
    const w = randn([2, 4, 3, 3], { seed: 2 });
    const plan = conv2dPlan(w);
    expect(plan.backend).toBe(hostBackends[0] ?? 'reference');
    const y = conv2d(x, w);
    const r = conv2d(x, w, { backend: 'reference' });
    expect(y.shape).toEqual([1, 2, 3, 3]);
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
  });

  it('x=[1,2,4,4] padding forms: number, [h,w], [t,l,b,r] and {top,left,bottom,right} agree', () => {
    const x = randn([1, 2, 4, 4], { seed: 1 });
    const w = randn([2, 2, 3, 3], { seed: 2 });
    const a = conv2d(x, w, { padding: [1, 2, 1, 2], backend: 'reference' }).dataSync();
    const b = conv2d(x, w, { padding: [1, 2], backend: 'reference' }).dataSync();
    const c = conv2d(x, w, { padding: { top: 1, left: 2, bottom: 1, right: 2 }, backend: 'reference' }).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).toEqual(Array.from(a));
    const d = conv2d(x, w, { padding: 1, backend: 'reference' });
    expect(d.shape).toEqual([1, 2, 4, 4]);
  });
});
