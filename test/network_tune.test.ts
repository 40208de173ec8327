// Kernel choice by measurement in the CPU network (forward option `tune`,
// default on in mode 'network'): where the cost model picked Winograd for a
// conv (NCHW, or blocked), the first forward of a shape times it against the direct kernel
// inside the whole forward and keeps the faster per conv; winners are cached
// for the process; planInfo() reports candidates, times and choices per
// shape; tune: false keeps the cost model's choice and packs no alternates.
// Choices forced through the process cache check that a program running the
// alternates is bound right (the reference agrees, profile names them). The
// native half: the Network's `alternate` conv spec and step field.

import { beforeEach, describe, expect, it } from 'vitest';

import { conv2d, cpuInfo } from '../lib';
import { tuneDecision } from '../lib/backends/cpu_network';
import { cpuBinding } from '../lib/binding';
import type { ResNeXtModel } from '../lib/models/model';
import { resnext } from '../lib/models/presets';
import { clearTuneCache, recallWinner, rememberWinner, tuneCacheKeys } from '../lib/ops/conv2d_tune';
import { randn } from '../lib/tensor';
import { nativeHostBackends } from './helpers/backends';
import { REL_TOL, relErr } from './helpers/compare';
import { randomizeBatchNorm } from './helpers/models';

const hasCpu = nativeHostBackends().includes('cpu');

/** A ResNet-style model (cardinality 1: dense 3x3s, which the cost model runs as Winograd) with random BN statistics. */
function denseModel(seed: number): ResNeXtModel {
  const m = resnext({ depth: 50, cardinality: 1, width: 16, numClasses: 10, seed });
  randomizeBatchNorm(m, seed + 1);
  return m;
}

describe('network tune decision: medians of the pooled step times, 3% margin', () => {
  it('a candidate whose minimum is lucky (weights in cache once) loses on the median; ties within 3% keep the first', () => {
    // Shaped like ResNeXt-50's grouped layer3 3x3s at batch 1 (5 layers x 3 rounds pooled): the packed F(4x4) found
    // its weights in cache in one sample, the raw-tap kernel never needs to.
    const packed = [0.083, 0.109, 0.112, 0.114, 0.118, 0.11, 0.111, 0.116, 0.109, 0.113, 0.115, 0.112, 0.11, 0.117, 0.114];
    const raw = [0.084, 0.083, 0.085, 0.084, 0.086, 0.083, 0.085, 0.084, 0.086, 0.085, 0.084, 0.083, 0.085, 0.084, 0.086];
    expect(Math.min(...raw) < 0.97 * Math.min(...packed)).toBe(false); // the minima alone would keep the packed kernel
    const d = tuneDecision([packed, raw]);
    expect(d.ms).toEqual([0.112, 0.084]);
    expect(d.alternate).toBe(true);
    // Even counts take the mean of the middle two; 2% faster is within the margin.
    expect(
      tuneDecision([
        [1, 1.2],
        [1.08, 1.08],
      ]),
    ).toEqual({ ms: [1.1, 1.08], alternate: false });
    expect(
      tuneDecision([
        [1, 1, 1],
        [0.96, 0.5, 2],
      ]),
    ).toEqual({ ms: [1, 0.96], alternate: true });
  });
});

describe.runIf(hasCpu)('network kernel choice by measurement (cpu, tune)', () => {
  beforeEach(() => clearTuneCache());

  it('dense 3x3 model x=[1, 3, 64, 64]: each Winograd conv measured against direct, choice reported, reference agrees', async () => {
    const m = denseModel(3);
    const x = randn([1, 3, 64, 64], { seed: 4 });
    const out = (await m.forward(x, { backend: 'cpu' })).dataSync();
    const info = m.planInfo();
    const tuned = info.filter((p) => p.tuning);
    // The model exists to exercise tuning: its dense 3x3s must have had two candidates.
    expect(tuned.length).toBeGreaterThan(0);
    for (const p of tuned) {
      const t = p.tuning!;
      expect(t.candidates).toHaveLength(2);
      expect(t.candidates[0]).toMatch(/^winograd/);
      // The direct kernel, except where the dense F(4x4) kernel's packed weights pass 1 MiB (128+ channels): the
      // same F(4x4) with its weights transformed per run from the raw 3x3 taps (ConvImpl::alternate).
      // Likewise dense F(2x2) (winograd_avx512: more than 256 channels) against winograd22_otf_avx512.
      if (t.candidates[1] === 'winograd43_otf_avx512') expect(t.candidates[0]).toBe('winograd_grouped_avx512');
      else if (t.candidates[1] === 'winograd22_otf_avx512') expect(t.candidates[0]).toBe('winograd_avx512');
      else expect(t.candidates[1]).not.toMatch(/^winograd/);
      expect(t.choices).toHaveLength(1);
      const c = t.choices[0];
      expect(c.source).toBe('measured');
      expect(c.inputShape[0]).toBe(1);
      expect(t.candidates).toContain(c.chosen);
      expect(p.impl).toBe(c.chosen);
      expect(Object.keys(c.timingsMs).sort()).toEqual([...t.candidates].sort());
      for (const ms of Object.values(c.timingsMs)) expect(ms > 0 && Number.isFinite(ms)).toBe(true);
      // The 3% margin: the alternate is chosen only when clearly faster.
      const [first, second] = t.candidates;
      expect(c.chosen).toBe(c.timingsMs[second] < 0.97 * c.timingsMs[first] ? second : first);
    }
    // Its 128-channel 3x3s (layer4, NCHW) have the per-run transform as their rival with AVX-512.
    if (cpuInfo()?.best === 'avx512') expect(tuned.some((p) => p.tuning!.candidates[1] === 'winograd43_otf_avx512')).toBe(true);
    // Convs with one candidate (1x1s, the stem) report none; the blocked-layout 3x3s (layer1-2 under 'auto') are
    // timed too, the blocked Winograd against the blocked direct kernel.
    expect(info.filter((p) => !p.tuning).every((p) => !/^winograd/.test(p.impl))).toBe(true);
    const blockedTuned = tuned.filter((p) => p.layout !== 'NCHW');
    expect(blockedTuned.length).toBeGreaterThan(0);
    for (const p of blockedTuned) expect(p.tuning!.candidates.every((c) => /_nchw(16|8)c_/.test(c))).toBe(true);
    const ref = (await m.forward(x, { backend: 'reference' })).dataSync();
    expect(relErr(out, ref)).toBeLessThanOrEqual(REL_TOL);
    // Later forwards of the shape run the chosen program without measuring again.
    expect((await m.forward(x)).dataSync()).toEqual(out);
    expect(m.planInfo().filter((p) => p.tuning)).toEqual(tuned);
    m.dispose();
  });

  it('tune: false keeps the cost model (Winograd) and packs no alternates; the choice is the same on every run', async () => {
    const a = denseModel(3);
    const x = randn([1, 3, 40, 40], { seed: 4 });
    const outA = (await a.forward(x, { tune: false })).dataSync();
    const infoA = a.planInfo();
    expect(infoA.some((p) => p.tuning)).toBe(false);
    expect(infoA.some((p) => /^winograd/.test(p.impl))).toBe(true);
    const b = denseModel(3);
    expect((await b.forward(x, { tune: false })).dataSync()).toEqual(outA);
    expect(b.planInfo()).toEqual(infoA);
    // tune: false packs less than tune: true (no direct copies of the Winograd convs' weights): planInfo's
    // packedBytes counts both packings of a conv with an alternate.
    const c = denseModel(3);
    c.prepare({ tune: true });
    const infoC = c.planInfo();
    infoA.forEach((p, i) => {
      if (infoC[i].tuning) expect(infoC[i].packedBytes).toBeGreaterThan(p.packedBytes);
      else expect(infoC[i].packedBytes).toBe(p.packedBytes);
    });
    expect(tuneCacheKeys()).toEqual([]);
    for (const m of [a, b, c]) m.dispose();
  });

  it('winners are cached for the process: a second model of the same layers and shape does not measure', async () => {
    const x = randn([1, 3, 48, 48], { seed: 5 });
    const a = denseModel(7);
    await a.forward(x);
    const keys = tuneCacheKeys();
    expect(keys.length).toBeGreaterThan(0);
    const b = denseModel(8);
    await b.forward(x);
    const chosenA = a.planInfo().map((p) => p.tuning?.choices[0].chosen);
    const tunedB = b.planInfo().filter((p) => p.tuning);
    expect(tunedB.length).toBeGreaterThan(0);
    for (const p of tunedB) expect(p.tuning!.choices[0].source).toBe('cached');
    expect(b.planInfo().map((p) => p.tuning?.choices[0].chosen)).toEqual(chosenA);
    expect(tuneCacheKeys()).toEqual(keys);
    // Another input shape is measured afresh, and both shapes' choices are reported.
    await b.forward(randn([2, 3, 40, 40], { seed: 6 }));
    for (const p of b.planInfo().filter((q) => q.tuning)) {
      expect(p.tuning!.choices.map((c) => [c.inputShape[0], c.source])).toEqual([
        [1, 'cached'],
        [2, 'measured'],
      ]);
      expect(p.impl).toBe(p.tuning!.choices[1].chosen);
    }
    a.dispose();
    b.dispose();
  });

  it('choices forced through the cache: every conv on its direct alternate, then every conv on Winograd; reference agrees', async () => {
    const x = randn([2, 3, 56, 52], { seed: 9 });
    const probe = denseModel(11);
    await probe.forward(x);
    const ref = (await probe.forward(x, { backend: 'reference' })).dataSync();
    const candidates = probe.planInfo().flatMap((p) => (p.tuning ? [p.tuning.candidates] : []));
    // One key per distinct layer and input shape (repeated blocks share theirs).
    const keys = tuneCacheKeys();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThanOrEqual(candidates.length);
    for (const pick of [1, 0]) {
      for (const k of keys) {
        const w = recallWinner(k)!;
        const names = Object.keys(w.timingsMs);
        const cand = candidates.find((c) => names.includes(c[0]) && names.includes(c[1]))!;
        rememberWinner(k, cand[pick], w.timingsMs);
      }
      const m = denseModel(11);
      const out = (await m.forward(x)).dataSync();
      expect(relErr(out, ref)).toBeLessThanOrEqual(REL_TOL);
      const tuned = m.planInfo().filter((p) => p.tuning);
      expect(tuned.map((p) => p.impl)).toEqual(tuned.map((p) => p.tuning!.candidates[pick]));
      expect(tuned.every((p) => p.tuning!.choices[0].source === 'cached')).toBe(true);
      // profile() runs the same program: its steps name the kernels planInfo reports.
      const prof = await m.profile(x);
      expect(prof.logits.dataSync()).toEqual(out);
      const byName = new Map(m.planInfo().map((p) => [p.name, p.impl]));
      for (const s of prof.steps.filter((q) => q.op === 'conv')) expect(s.impl).toBe(byName.get(s.name));
      m.dispose();
    }
    probe.dispose();
  });

  it('a batch over 8 (x=[10, 3, 24, 24]) is timed on its first 8 images; batch 8 of the same size then finds the choices cached', async () => {
    const m = denseModel(12);
    const x = randn([10, 3, 24, 24], { seed: 13 });
    const out = (await m.forward(x)).dataSync();
    const tuned = m.planInfo().filter((p) => p.tuning);
    expect(tuned.length).toBeGreaterThan(0);
    for (const p of tuned) {
      const c = p.tuning!.choices[0];
      expect(c.inputShape[0]).toBe(10);
      expect(c.measuredOn![0]).toBe(8);
      expect(c.measuredOn!.slice(1)).toEqual(c.inputShape.slice(1));
      expect(c.source).toBe('measured');
    }
    const ref = (await m.forward(x, { backend: 'reference' })).dataSync();
    expect(relErr(out, ref)).toBeLessThanOrEqual(REL_TOL);
    await m.forward(randn([8, 3, 24, 24], { seed: 14 }));
    for (const p of m.planInfo().filter((q) => q.tuning)) {
      const c = p.tuning!.choices[1];
      expect(c.inputShape[0]).toBe(8);
      expect(c.source).toBe('cached');
      expect(c.measuredOn).toBeUndefined();
      expect(c.chosen).toBe(p.tuning!.choices[0].chosen);
    }
    m.dispose();
  });

  it('checks tune: a non-boolean is a TypeError; tune: true with mode layer a RangeError; changing it re-prepares', async () => {
    const m = denseModel(1);
    const x = randn([1, 3, 32, 32], { seed: 2 });
    // @ts-expect-error: a string
    await expect(m.forward(x, { tune: 'yes' })).rejects.toThrow(TypeError);
    // @ts-expect-error: a number
    await expect(m.profile(x, { tune: 1 })).rejects.toThrow(/tune/);
    // @ts-expect-error: null
    expect(() => m.prepare({ tune: null })).toThrow(TypeError);
    await expect(m.forward(x, { mode: 'layer', tune: true })).rejects.toThrow(RangeError);
    await m.forward(x, { tune: false });
    expect(m.planInfo().some((p) => p.tuning)).toBe(false);
    await m.forward(x, { tune: true });
    expect(m.planInfo().some((p) => p.tuning)).toBe(true);
    // Undefined keeps the prepared engine's setting.
    await m.forward(x);
    expect(m.planInfo().some((p) => p.tuning)).toBe(true);
    m.dispose();
  });
});

describe.runIf(hasCpu)('native Network: alternate plans', () => {
  const b = cpuBinding()!;

  it('a Winograd conv packs its direct alternate; steps run either; both agree; bad uses are refused', () => {
    const K = 32,
      C = 32,
      H = 14;
    const w = randn([K, C, 3, 3], { seed: 1 }).dataSync();
    const spec = {
      weight: w,
      shape: [K, C, 3, 3],
      bias: null,
      groups: 1,
      stride: [1, 1] as [number, number],
      padding: [1, 1, 1, 1] as [number, number, number, number],
      activation: 'none' as const,
    };
    const one = {
      ...spec,
      weight: randn([K, C, 1, 1], { seed: 2 }).dataSync(),
      shape: [K, C, 1, 1],
      padding: [0, 0, 0, 0] as [number, number, number, number],
    };
    const net = new b.Network!([
      { ...spec, alternate: true },
      { ...one, alternate: true },
      { ...spec, alternate: false },
    ]);
    const info = net.info();
    expect(info[0].impl).toMatch(/^winograd/);
    expect(info[0].alternate).toMatchObject({ impl: expect.not.stringMatching(/^winograd/) });
    expect(info[0].alternate!.packedBytes).toBeGreaterThan(0);
    // A 1x1 (not transformed) and a conv made without `alternate` have none.
    expect(info[1].alternate).toBeNull();
    expect(info[2].alternate).toBeNull();
    const x = randn([1, C, H, H], { seed: 3 }).dataSync();
    const outs = [new Float32Array(K * H * H), new Float32Array(K * H * H)];
    const ids = [false, true].map((alternate, j) =>
      net.addProgram(
        [{ op: 'conv', conv: 0, input: null, inputShape: [1, C, H, H], output: outs[j], residual: null, alternate }],
        x.length,
      ),
    );
    net.run(ids[0], x);
    net.run(ids[1], x);
    expect(relErr(outs[1], outs[0])).toBeLessThanOrEqual(REL_TOL);
    expect(outs[1].some((v) => v !== 0)).toBe(true);
    const step = (conv: number, alternate: unknown) => [
      { op: 'conv', conv, input: null, inputShape: [1, C, H, H], output: new Float32Array(K * H * H), residual: null, alternate },
    ];
    expect(() => net.addProgram(step(2, true) as never, x.length)).toThrow(/steps\[0\]\.alternate: conv 2 has no alternate plan/);
    expect(() => net.addProgram(step(0, 'yes') as never, x.length)).toThrow(TypeError);
    // @ts-expect-error: not a boolean
    expect(() => new b.Network!([{ ...spec, alternate: 1 }])).toThrow(/convs\[0\]\.alternate: expected a boolean/);
    net.dispose();
  });

  // 3x3s whose packed Winograd weights pass 1 MiB: the same tiles with the weights transformed per run from the
  // raw taps in panels of 16 output channels (9 of F(4x4)'s 36 / F(2x2)'s 16 positions' bytes) as the alternate;
  // dense ones and ResNeXt-50's grouped layer3 3x3 (512 channels in 32 groups).
  for (const [C, G, impl, alt, shapes] of [
    [
      128,
      1,
      'winograd_grouped_avx512',
      'winograd43_otf_avx512',
      [
        [1, 13, 13],
        [2, 9, 15],
      ],
    ],
    [
      512,
      32,
      'winograd_grouped_avx512',
      'winograd43_otf_avx512',
      [
        [1, 14, 14],
        [2, 9, 15],
      ],
    ],
    [
      288,
      1,
      'winograd_avx512',
      'winograd22_otf_avx512',
      [
        [1, 7, 7],
        [2, 9, 15],
      ],
    ],
  ] as const) {
    it.runIf(cpuInfo()?.best === 'avx512')(
      `a 3x3 conv C=K=${C} groups=${G} (${impl}) packs ${alt} (raw taps) as its alternate; x=${shapes.map(([n, h, w]) => `[${n},${C},${h},${w}]`).join(' and ')} agree with the reference`,
      () => {
        const K = C;
        const wt = randn([K, C / G, 3, 3], { seed: 21 });
        const bias = randn([K], { seed: 22 });
        const net = new b.Network!([
          {
            weight: wt.dataSync(),
            shape: [K, C / G, 3, 3],
            bias: bias.dataSync(),
            groups: G,
            stride: [1, 1],
            padding: [1, 1, 1, 1],
            activation: 'relu',
            alternate: true,
          },
        ]);
        const info = net.info();
        expect(info[0].impl).toBe(impl);
        expect(info[0].alternate).toMatchObject({ impl: alt, packedBytes: (K * C * 9 * 4) / G });
        for (const [N, H, W] of shapes) {
          const x = randn([N, C, H, W], { seed: 23 });
          const ref = conv2d(x, wt, { padding: 1, groups: G, bias, activation: 'relu', backend: 'reference' }).dataSync();
          const outs = [false, true].map((alternate) => {
            const out = new Float32Array(N * K * H * W);
            const id = net.addProgram(
              [{ op: 'conv', conv: 0, input: null, inputShape: [N, C, H, W], output: out, residual: null, alternate }],
              x.size,
            );
            net.run(id, x.dataSync());
            net.dropProgram(id);
            return out;
          });
          for (const o of outs) expect(relErr(o, ref)).toBeLessThanOrEqual(REL_TOL);
        }
        net.dispose();
      },
    );
  }

  it('a blocked Winograd conv (C=K=32, 3x3, 13x13) packs the blocked direct kernel as its alternate; both agree', () => {
    const K = 32,
      C = 32,
      H = 13;
    const spec = {
      weight: randn([K, C, 3, 3], { seed: 5 }).dataSync(),
      shape: [K, C, 3, 3],
      bias: randn([K], { seed: 6 }).dataSync(),
      groups: 1,
      stride: [1, 1] as [number, number],
      padding: [1, 1, 1, 1] as [number, number, number, number],
      activation: 'relu' as const,
      blockedGroup: 0,
    };
    const net = new b.Network!([
      { ...spec, alternate: true },
      { ...spec, blockedGroup: 1 },
    ]);
    const info = net.info();
    const cb = info[0].blocked!.cb;
    expect(info[0].blocked!.impl).toMatch(/^winograd.*_nchw(16|8)c_/);
    expect(info[0].alternate).toMatchObject({ impl: expect.stringMatching(/^conv3x3_nchw(16|8)c_/) });
    expect(info[0].alternate!.packedBytes).toBeGreaterThan(0);
    expect(info[1].alternate).toBeNull();
    const x = randn([2, C, H, H], { seed: 7 }).dataSync();
    const blockedLen = 2 * Math.ceil(C / cb) * cb * H * H;
    const outs = [new Float32Array(x.length), new Float32Array(x.length)];
    const ids = [false, true].map((alternate, j) => {
      const xb = new Float32Array(blockedLen),
        yb = new Float32Array(blockedLen);
      return net.addProgram(
        [
          { op: 'toBlocked', input: null, inputShape: [2, C, H, H], output: xb, cb },
          { op: 'blockedConv', conv: 0, input: xb, inputShape: [2, C, H, H], output: yb, residual: null, cb, alternate },
          { op: 'fromBlocked', input: yb, inputShape: [2, K, H, H], output: outs[j], cb },
        ],
        x.length,
      );
    });
    net.run(ids[0], x);
    net.run(ids[1], x);
    expect(outs[1].some((v) => v !== 0)).toBe(true);
    expect(relErr(outs[1], outs[0])).toBeLessThanOrEqual(REL_TOL);
    // The alternate runs in its own layout only; a conv packed without `alternate` has none.
    const nchw = { op: 'conv', conv: 0, input: null, inputShape: [2, C, H, H], output: new Float32Array(x.length), residual: null };
    expect(() => net.addProgram([{ ...nchw, alternate: true }] as never, x.length)).toThrow(/alternate plan runs blocked, not NCHW/);
    const blockedStep = {
      ...nchw,
      op: 'blockedConv',
      conv: 1,
      input: new Float32Array(blockedLen),
      output: new Float32Array(blockedLen),
      cb,
    };
    expect(() => net.addProgram([{ ...blockedStep, alternate: true }] as never, x.length)).toThrow(/conv 1 has no alternate plan/);
    net.dispose();
  });
});
