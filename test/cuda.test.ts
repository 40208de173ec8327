// The GPU backends ('cuda': our kernels, 'cudnn': cuDNN) against the float64
// TS reference on the same kind of battery as the CPU suite, plus device
// tensors, dtypes, memory accounting and async behaviour. Without a usable GPU
// those suites skip with the loader's reason printed; what always runs is the
// loader's contract: it never throws and gives a precise reason.
import * as fs from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  backends,
  type Conv2dOptions,
  conv2d,
  conv2dPlan,
  cudaInfo,
  memory,
  randn,
  type ResNeXtModel,
  resnext,
  type Tensor,
  tensor,
  type DType,
} from '../lib';
import { cudaAddonCandidates, cudaBinding } from '../lib/binding';
import { Rng } from '../lib/random';
import { relErr } from './helpers/compare';
import { type Case, caseName } from './helpers/kernel_cases';

// test/cuda_fake.test.ts runs this file against a CPU stand-in of the addon
// (test/helpers/fake_cuda_addon.js) to check the TS layer without a GPU; the
// heavy async case is sized down there.
const FAKE = /fake_cuda_addon/.test(process.env.RESNEXT_CUDA_ADDON ?? '');
const all = backends();
const gpu = all.filter((b) => b.device === 'cuda');
const available = gpu.filter((b) => b.available).map((b) => b.name);
const cudaOk = available.includes('cuda');

// The reasons the loader may give, one pattern each (lib/binding.ts, native/cuda/runtime.cc, native/cudnn/cudnn_loader.cc).
const REASONS = [
  /^no CUDA addon built/,
  /^the CUDA addon at .* could not be loaded/,
  /^no NVIDIA driver: libcuda\.so\.1 could not be loaded/,
  /^no CUDA device: /,
  /^version mismatch: /,
  /^cuDNN not found/,
  /^device 0 .* compute capability/,
  /^disabled by RESNEXT_DISABLE_CUDA=1$/,
];

for (const b of gpu) {
  if (!b.available) console.log(`[cuda.test] backend '${b.name}' unavailable, its GPU suites are skipped: ${b.reason}`);
}

describe('CUDA loading (runs everywhere)', () => {
  it('backends() lists cuda and cudnn on device cuda, each available or with a precise reason', () => {
    expect(gpu.map((b) => b.name).sort()).toEqual(['cuda', 'cudnn']);
    for (const b of gpu) {
      if (b.available) continue;
      expect(typeof b.reason).toBe('string');
      expect(
        REASONS.some((re) => re.test(b.reason!)),
        `unexpected reason for ${b.name}: ${b.reason}`,
      ).toBe(true);
    }
  });

  it('cudaInfo() and memory() never throw and agree with backends()', () => {
    const info = cudaInfo();
    expect(info.available).toBe(cudaOk);
    const m = memory();
    expect(m.available).toBe(cudaOk);
    if (!cudaOk) {
      expect(m.reason).toBe(gpu.find((b) => b.name === 'cuda')!.reason);
      expect(m.bytesInUse).toBe(0);
    }
  });

  it('a built addon loads without a driver and its probe() says what is missing', () => {
    const file = cudaAddonCandidates().find((p) => fs.existsSync(p));
    if (!file) {
      expect(gpu.find((b) => b.name === 'cuda')!.reason).toMatch(/^no CUDA addon built/);
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as { probe(): { ok: boolean; driverFound: boolean; reason?: string; runtimeVersion: number } };
    const p = addon.probe();
    expect(p.runtimeVersion).toBeGreaterThanOrEqual(12000);
    if (!p.ok) {
      expect(p.reason).toBeTruthy();
      if (!p.driverFound) expect(p.reason).toMatch(/^no NVIDIA driver/);
    }
    expect(p.ok).toBe(cudaOk);
  });

  it.skipIf(cudaOk)('device tensors and GPU backends fail with the reason when the GPU is unusable', () => {
    const reason = gpu.find((b) => b.name === 'cuda')!.reason!;
    expect(() => tensor([1, 2], [2], { device: 'cuda' })).toThrow(reason);
    expect(() => randn([1, 1, 2, 2]).to('cuda')).toThrow(reason);
    const x = randn([1, 2, 3, 3], { seed: 1 });
    const w = randn([2, 2, 1, 1], { seed: 2 });
    expect(() => conv2d(x, w, { backend: 'cuda' })).toThrow(/The cuda backend is unavailable/);
    expect(() => conv2d(x, w, { backend: 'cudnn' })).toThrow(/The cudnn backend is unavailable/);
  });

  it.skipIf(cudaOk)('model.forward on cuda/cudnn fails with the reason when the GPU is unusable', async () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 1 });
    const x = randn([1, 3, 32, 32], { seed: 2 });
    await expect(m.forward(x, { backend: 'cuda' })).rejects.toThrow(
      `The cuda backend is unavailable: ${gpu.find((b) => b.name === 'cuda')!.reason}`,
    );
    await expect(m.forward(x, { backend: 'cudnn', graph: true })).rejects.toThrow(/The cudnn backend is unavailable/);
  });

  it('model.forward validates graph and dtype before any GPU is needed', async () => {
    const m = resnext({ depth: 29, cardinality: 2, width: 2, numClasses: 4, seed: 1 });
    const x = randn([1, 3, 16, 16], { seed: 2 });
    await expect(m.forward(x, { backend: 'reference', graph: true })).rejects.toThrow(
      /Expected no graph option on a host backend .* for graph but received true/,
    );
    await expect(m.forward(x, { backend: 'reference', graph: 1 as unknown as boolean })).rejects.toThrow(TypeError);
    await expect(m.forward(x, { backend: 'reference', dtype: 'float16' })).rejects.toThrow(RangeError);
    await expect(m.forward(x, { backend: 'reference', denseConvs: 'cudnn' })).rejects.toThrow(
      /Expected no denseConvs option on a host backend/,
    );
  });

  it('device and dtype arguments are validated before any GPU is needed', () => {
    expect(() => tensor([1], [1], { dtype: 'float16' })).toThrow(RangeError);
    expect(() => tensor([1], [1], { device: 'gpu' as 'cuda' })).toThrow(/Expected 'cpu' or 'cuda' for options.device but received "gpu"/);
    expect(() => randn([2]).to('tpu' as 'cpu')).toThrow(RangeError);
    expect(() => randn([2]).to('cpu', { dtype: 'bfloat16' })).toThrow(RangeError);
    const t = randn([2, 3], { seed: 3 });
    expect(t.to('cpu')).toBe(t);
    expect(t.dtype).toBe('float32');
  });
});

// Odd channels, groups neither 1 nor C, depthwise, ResNeXt's 32 groups with 4
// and 8 channels per group, strides 1/2/3, dilation, asymmetric padding (the
// cuDNN path pads a copy), batch 5, non-square, 1x1 and 7x7, K not a multiple of 32.
const battery: Case[] = [
  { n: 1, c: 17, h: 9, w: 11, k: 17, r: 3, s: 3, groups: 1, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 18, h: 9, w: 7, k: 21, r: 3, s: 3, groups: 3, stride: 2, dilation: 2, padding: [1, 2, 0, 1] },
  { n: 2, c: 17, h: 10, w: 13, k: 17, r: 3, s: 3, groups: 17, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 128, h: 14, w: 14, k: 128, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 3, c: 256, h: 9, w: 9, k: 256, r: 3, s: 3, groups: 32, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 96, h: 8, w: 8, k: 48, r: 1, s: 1, groups: 4, stride: 1, dilation: 1, padding: 0 },
  { n: 3, c: 64, h: 7, w: 9, k: 300, r: 1, s: 1, groups: 1, stride: 2, dilation: 1, padding: 0 },
  { n: 1, c: 3, h: 23, w: 19, k: 8, r: 7, s: 7, groups: 1, stride: 2, dilation: 1, padding: 3 },
  { n: 2, c: 12, h: 11, w: 14, k: 12, r: 5, s: 5, groups: 2, stride: 1, dilation: 2, padding: [4, 3, 2, 1] },
  { n: 1, c: 8, h: 9, w: 5, k: 4, r: 3, s: 5, groups: 4, stride: [2, 1], dilation: [1, 2], padding: [1, 4] },
  { n: 5, c: 6, h: 5, w: 5, k: 9, r: 5, s: 5, groups: 3, stride: 3, dilation: 1, padding: 0 },
  { n: 1, c: 16, h: 1, w: 1, k: 8, r: 1, s: 1, groups: 1, stride: 1, dilation: 1, padding: 0 },
];

// Normwise relative error allowed per device dtype (float32 accumulation everywhere).
const TOL: Record<DType, number> = { float32: 1e-4, float16: 5e-3, bfloat16: 3e-2 };

function gpuVsReference(
  t: Case,
  backend: 'cuda' | 'cudnn',
  dtype: DType,
  extra: { bias?: boolean; residual?: boolean; relu?: boolean } = {},
) {
  const x = randn([t.n, t.c, t.h, t.w], { seed: 11 });
  const w = randn([t.k, t.c / t.groups, t.r, t.s], { seed: 12 });
  const opts: Conv2dOptions = { groups: t.groups, stride: t.stride, dilation: t.dilation, padding: t.padding };
  const ref0 = conv2d(x, w, { ...opts, backend: 'reference' });
  const bias = extra.bias ? randn([t.k], { seed: 13 }) : undefined;
  const residual = extra.residual ? randn(ref0.shape, { seed: 14 }) : undefined;
  const act = extra.relu ? ('relu' as const) : ('none' as const);
  const ref = conv2d(x, w, { ...opts, bias, residual, activation: act, backend: 'reference' });
  const d = <T extends Tensor>(v: T): T => v.to('cuda', { dtype }) as T;
  const y = conv2d(d(x), d(w), {
    ...opts,
    bias: bias ? d(bias) : undefined,
    residual: residual ? d(residual) : undefined,
    activation: act,
    backend,
  });
  expect(y.device).toBe('cuda');
  expect(y.dtype).toBe(dtype);
  expect(y.shape).toEqual(ref.shape);
  return relErr(y.dataSync(), ref.dataSync());
}

for (const be of ['cuda', 'cudnn'] as const) {
  describe.skipIf(!available.includes(be))(`conv2d on ${be} (GPU) vs the float64 reference`, () => {
    it.each(battery.map((t) => [caseName(t), t] as const))('float32 %s', (_n, t) => {
      expect(gpuVsReference(t, be, 'float32')).toBeLessThanOrEqual(TOL.float32);
    });
    it.each(battery.slice(0, 6).map((t) => [caseName(t), t] as const))('float32 %s with bias, residual and relu fused', (_n, t) => {
      expect(gpuVsReference(t, be, 'float32', { bias: true, residual: true, relu: true })).toBeLessThanOrEqual(TOL.float32);
    });
    for (const dtype of ['float16', 'bfloat16'] as const) {
      it.each(battery.slice(0, 5).map((t) => [caseName(t), t] as const))(`${dtype} %s with bias and relu`, (_n, t) => {
        expect(gpuVsReference(t, be, dtype, { bias: true, relu: true })).toBeLessThanOrEqual(TOL[dtype]);
      });
    }
    it.each(['float32', 'float16'] as const)(
      '%s x=[2,64,9,9] w=[64,2,3,3] g=32 p=1 with NaN inputs and relu: NaN exactly where the reference has it',
      (dtype) => {
        const x = randn([2, 64, 9, 9], { seed: 21 });
        const xd = x.dataSync();
        for (let i = 5; i < xd.length; i += 97) xd[i] = NaN;
        const w = randn([64, 2, 3, 3], { seed: 22 });
        const opts = { groups: 32, padding: 1, activation: 'relu' as const };
        const ref = conv2d(x, w, { ...opts, backend: 'reference' }).dataSync();
        const y = conv2d(x.to('cuda', { dtype }), w.to('cuda', { dtype }), { ...opts, backend: be }).dataSync();
        expect(ref.some(Number.isNaN)).toBe(true);
        expect([...y].map(Number.isNaN)).toEqual([...ref].map(Number.isNaN));
      },
    );
    it('float32 x=[2,64,9,9] w=[64,2,3,3] g=32 p=1 with the residual as the output (in-place residual add)', () => {
      const x = randn([2, 64, 9, 9], { seed: 41 });
      const w = randn([64, 2, 3, 3], { seed: 42 });
      const res = randn([2, 64, 9, 9], { seed: 43 });
      const ref = conv2d(x, w, { groups: 32, padding: 1, residual: res, activation: 'relu', backend: 'reference' }).dataSync();
      const acc = res.to('cuda');
      const plan = conv2dPlan(w.to('cuda'), { groups: 32, padding: 1, activation: 'relu', backend: be });
      const y = plan.run(x.to('cuda'), { out: acc, residual: acc });
      expect(y).toBe(acc);
      expect(relErr(acc.dataSync(), ref)).toBeLessThanOrEqual(TOL.float32);
      plan.dispose();
    });
    if (be === 'cuda') {
      const mmaCases: Case[] = [
        { n: 1, c: 512, h: 7, w: 7, k: 512, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
        { n: 2, c: 256, h: 5, w: 6, k: 256, r: 3, s: 3, groups: 8, stride: 2, dilation: 1, padding: 1 },
        { n: 1, c: 64, h: 9, w: 9, k: 128, r: 3, s: 3, groups: 2, stride: 1, dilation: 2, padding: 2 },
      ];
      for (const dtype of ['float16', 'bfloat16'] as const) {
        it.each(mmaCases.map((t) => [caseName(t), t] as const))(
          `${dtype} %s: tensor cores (grouped_mma) with bias, residual and relu`,
          (_n, t) => {
            const w = randn([t.k, t.c / t.groups, t.r, t.s], { seed: 12 }).to('cuda', { dtype });
            const plan = conv2dPlan(w, { groups: t.groups, stride: t.stride, dilation: t.dilation, padding: t.padding, backend: 'cuda' });
            expect(plan.info().impl).toBe('grouped_mma');
            plan.dispose();
            expect(gpuVsReference(t, 'cuda', dtype, { bias: true, residual: true, relu: true })).toBeLessThanOrEqual(TOL[dtype]);
          },
        );
      }
      // ResNeXt's grouped 3x3 shapes (4, 8, 16 and 32 channels per group) at batch >= 8: the plan keeps its batch-1
      // kernel and says in info() that these runs take grouped_mma_pipe; forced, that kernel runs every batch.
      const pipeCases: Case[] = [
        { n: 9, c: 128, h: 7, w: 5, k: 128, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
        { n: 8, c: 128, h: 6, w: 6, k: 128, r: 3, s: 3, groups: 16, stride: 2, dilation: 1, padding: 1 },
        { n: 8, c: 64, h: 5, w: 7, k: 64, r: 3, s: 3, groups: 4, stride: 1, dilation: 2, padding: 2 },
        { n: 8, c: 128, h: 5, w: 5, k: 128, r: 3, s: 3, groups: 4, stride: 1, dilation: 1, padding: 1 },
      ];
      for (const dtype of ['float16', 'bfloat16'] as const) {
        it.each(pipeCases.map((t) => [caseName(t), t] as const))(
          `${dtype} %s: batch >= 8 runs grouped_mma_pipe (said in info()), chosen and forced, with bias, residual and relu`,
          (_n, t) => {
            const opts = { groups: t.groups, stride: t.stride, dilation: t.dilation, padding: t.padding };
            const w = randn([t.k, t.c / t.groups, t.r, t.s], { seed: 12 });
            const auto = conv2dPlan(w.to('cuda', { dtype }), { ...opts, backend: 'cuda' });
            expect(auto.info().detail).toMatch(/batch >= 8 runs grouped_mma_pipe/);
            expect(auto.info().impl).not.toBe('grouped_mma_pipe');
            auto.dispose();
            expect(gpuVsReference(t, 'cuda', dtype, { bias: true, residual: true, relu: true })).toBeLessThanOrEqual(TOL[dtype]);
            // Forced, for a batch of 1 and of t.n.
            const bias = randn([t.k], { seed: 13 });
            const forced = conv2dPlan(w.to('cuda', { dtype }), {
              ...opts,
              bias: bias.to('cuda', { dtype }),
              activation: 'relu',
              backend: 'cuda',
              impl: 'grouped_mma_pipe',
            });
            expect(forced.info().impl).toBe('grouped_mma_pipe');
            for (const n of [1, t.n]) {
              const x = randn([n, t.c, t.h, t.w], { seed: 15 + n });
              const ref = conv2d(x, w, { ...opts, bias, activation: 'relu', backend: 'reference' }).dataSync();
              expect(relErr(forced.run(x.to('cuda', { dtype })).dataSync(), ref)).toBeLessThanOrEqual(TOL[dtype]);
            }
            forced.dispose();
          },
        );
      }
      it('float32 and shapes it was not built for do not take grouped_mma_pipe, and forcing it says why', () => {
        const w = randn([128, 4, 3, 3], { seed: 12 });
        const f32 = conv2dPlan(w.to('cuda'), { groups: 32, padding: 1, backend: 'cuda' });
        expect(f32.info().detail).not.toMatch(/grouped_mma_pipe \(/);
        f32.dispose();
        // 24 channels per group.
        const w24 = randn([48, 24, 3, 3], { seed: 12 }).to('cuda', { dtype: 'float16' });
        const odd = conv2dPlan(w24, { groups: 2, padding: 1, backend: 'cuda' });
        expect(odd.info().detail).not.toMatch(/batch >= 8 runs/);
        odd.dispose();
        expect(() => conv2dPlan(w24, { groups: 2, padding: 1, backend: 'cuda', impl: 'grouped_mma_pipe' })).toThrow(/grouped_mma_pipe/);
      });
      it.each([3, 4, 5, 6].map((i) => [caseName(battery[i]), battery[i]] as const))(
        'float32 %s: grouped_vec4 by default, grouped_direct when forced, both match',
        (_n, t) => {
          const x = randn([t.n, t.c, t.h, t.w], { seed: 31 });
          const w = randn([t.k, t.c / t.groups, t.r, t.s], { seed: 32 });
          const opts = { groups: t.groups, stride: t.stride, dilation: t.dilation, padding: t.padding };
          const ref = conv2d(x, w, { ...opts, backend: 'reference' }).dataSync();
          const auto = conv2dPlan(w.to('cuda'), { ...opts, backend: 'cuda' });
          expect(auto.info().impl).toBe('grouped_vec4');
          const direct = conv2dPlan(w.to('cuda'), { ...opts, backend: 'cuda', impl: 'grouped_direct' });
          expect(direct.info().impl).toBe('grouped_direct');
          const xg = x.to('cuda');
          expect(relErr(auto.run(xg).dataSync(), ref)).toBeLessThanOrEqual(TOL.float32);
          expect(relErr(direct.run(xg).dataSync(), ref)).toBeLessThanOrEqual(TOL.float32);
          auto.dispose();
          direct.dispose();
        },
      );
    }
    // The cuDNN plan's host cost per call: descriptors and the algorithm are made once per input shape.
    it.runIf(be === 'cudnn' && !FAKE)(
      'x=[1,64,9,9] and x=[2,64,7,7] w=[64,2,3,3] g=32 p=1: runs of a known shape create no descriptor and search no algorithm',
      () => {
        const w = randn([64, 2, 3, 3], { seed: 51 });
        const plan = conv2dPlan(w.to('cuda'), { groups: 32, padding: 1, activation: 'relu', backend: 'cudnn' });
        const counts = () => {
          const detail = String(plan.info().detail);
          const m = /runs (\d+), shapes (\d+), shape descriptors created (\d+), algorithm searches (\d+)/.exec(detail);
          expect(m, detail).not.toBeNull();
          return m!.slice(1).map(Number);
        };
        const xa = randn([1, 64, 9, 9], { seed: 52 });
        const xb = randn([2, 64, 7, 7], { seed: 53 });
        const ref = conv2d(xa, w, { groups: 32, padding: 1, activation: 'relu', backend: 'reference' }).dataSync();
        const xga = xa.to('cuda');
        plan.run(xga);
        expect(counts()).toEqual([1, 1, 2, 1]);
        for (let i = 0; i < 3; i++) plan.run(xga);
        expect(counts()).toEqual([4, 1, 2, 1]);
        plan.run(xb.to('cuda'));
        expect(counts()).toEqual([5, 2, 4, 2]);
        expect(relErr(plan.run(xga).dataSync(), ref)).toBeLessThanOrEqual(TOL.float32);
        expect(counts()).toEqual([6, 2, 4, 2]);
        plan.dispose();
      },
    );
    it('runAsync on x=[4,128,56,56] g=32 resolves with the result and lets the event loop run meanwhile', async () => {
      const xh = randn((FAKE ? [1, 128, 8, 8] : [4, 128, 56, 56]) as number[], { seed: 5 });
      const wh = randn([128, 4, 3, 3], { seed: 6 });
      const x = xh.to('cuda');
      const plan = conv2dPlan(wh.to('cuda'), { groups: 32, padding: 1, backend: be });
      // Queue enough GPU work that the wait is long compared with one loop turn.
      for (let i = 0; i < (FAKE ? 1 : 30); i++) plan.run(x);
      let immediateRan = false;
      setImmediate(() => {
        immediateRan = true;
      });
      const y = await plan.runAsync(x);
      expect(immediateRan).toBe(true);
      const ref = conv2d(xh, wh, { groups: 32, padding: 1, backend: 'reference' });
      expect(relErr(await y.data(), ref.dataSync())).toBeLessThanOrEqual(TOL.float32);
      plan.dispose();
    });
  });
}

describe.skipIf(!cudaOk)('device tensors on cuda', () => {
  it('to(cuda) then to(cpu) round-trips float32 exactly, for rank 1, 2 and 4 (NHWC inside)', () => {
    for (const shape of [[7], [3, 5], [2, 3, 4, 5]] as number[][]) {
      const t = randn(shape, { seed: 21 });
      const back = t.to('cuda').to('cpu');
      expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
    }
  });

  it('a reshaped view of a rank-4 device tensor reads in logical order and feeds conv2d', () => {
    const t = randn([2, 4, 3, 3], { seed: 22 });
    const g = t.to('cuda');
    expect(Array.from(g.reshape([2, 36]).dataSync())).toEqual(Array.from(t.dataSync()));
    const w = randn([4, 4, 1, 1], { seed: 23 });
    const viewed = g.reshape([1, 8, 3, 3]);
    const y = conv2d(viewed, w.to('cuda'), { groups: 2, backend: 'cuda' });
    const r = conv2d(t.reshape([1, 8, 3, 3]), w, { groups: 2, backend: 'reference' });
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(TOL.float32);
  });

  it('float16 and bfloat16 conversions round to the nearest representable value', () => {
    const t = tensor([1, 1 / 3, 65504, -2.5, 1e-8], [5]);
    const h = t.to('cuda', { dtype: 'float16' });
    expect(h.dtype).toBe('float16');
    const hv = h.dataSync();
    expect(hv[0]).toBe(1);
    expect(hv[1]).toBeCloseTo(0.333251953125, 12);
    expect(hv[2]).toBe(65504);
    expect(hv[3]).toBe(-2.5);
    const b = t.to('cuda', { dtype: 'bfloat16' }).dataSync();
    expect(b[1]).toBeCloseTo(0.333984375, 12);
    expect(h.to('cuda', { dtype: 'float32' }).dataSync()[1]).toBe(hv[1]);
  });

  it('memory() counts device bytes and dispose() returns them', () => {
    const before = memory().bytesInUse;
    const t = tensor(new Float32Array(1 << 20), [1 << 20], { device: 'cuda' });
    expect(memory().bytesInUse - before).toBe(4 << 20);
    expect(memory().peakBytes).toBeGreaterThanOrEqual(before + (4 << 20));
    t.dispose();
    expect(memory().bytesInUse).toBe(before);
  });
});

/** Random BN statistics and affine parameters, so folding is not the identity. */
function randomizeBatchNorm(m: ResNeXtModel, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, t] of m.stateDict()) {
    const d = t.dataSync();
    if (name.endsWith('running_mean')) for (let i = 0; i < d.length; i++) d[i] = 0.2 * rng.normal();
    else if (name.endsWith('running_var')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rng.uniform();
    else if (t.shape.length === 1 && name.endsWith('.weight')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + rng.uniform();
    else if (t.shape.length === 1 && name.endsWith('.bias') && !name.startsWith('fc'))
      for (let i = 0; i < d.length; i++) d[i] = 0.1 * rng.normal();
  }
}

// Whole-network tolerances: errors of ~55 layers compound (float32 as on the CPU).
const NET_TOL: Record<DType, number> = { float32: 1e-4, float16: 1e-2, bfloat16: 6e-2 };

for (const be of ['cuda', 'cudnn'] as const) {
  describe.skipIf(!available.includes(be))(`whole ResNeXt models on ${be} (GPU) vs the float64 reference`, () => {
    // ResNeXt-50 layout (4 stages, 16 blocks, max pool, projection shortcuts) with C=2, d=2 and 4 classes: CI-sized.
    const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 21 });
    randomizeBatchNorm(m, 22);
    const x2 = randn([2, 3, 32, 32], { seed: 23 });
    const x1 = randn([1, 3, 32, 32], { seed: 24 });
    const x1b = randn([1, 3, 32, 32], { seed: 25 });
    const refs = new Map<Tensor, Float32Array>();
    const reference = async (x: Tensor): Promise<Float32Array> => {
      if (!refs.has(x)) refs.set(x, (await m.forward(x, { backend: 'reference' })).dataSync());
      return refs.get(x)!;
    };

    it('resnext50 (C=2, d=2) x=[2,3,32,32] float32 from a host input: logits [2,4] on the host match; a second forward allocates nothing and gives the same result', async () => {
      const r = await reference(x2);
      const y = await m.forward(x2, { backend: be });
      expect(y.device).toBe('cpu');
      expect(y.shape).toEqual([2, 4]);
      expect(relErr(y.dataSync(), r)).toBeLessThanOrEqual(NET_TOL.float32);
      const before = memory();
      const again = await m.forward(x2, { backend: be });
      const after = memory();
      // memory() counts live allocations of the whole process: the garbage
      // collector may free earlier tests' device tensors meanwhile (seen on the
      // H200), so the counts may drop, but a forward that allocates makes them grow.
      expect(after.allocations).toBeLessThanOrEqual(before.allocations);
      expect(after.bytesInUse).toBeLessThanOrEqual(before.bytesInUse);
      expect(Array.from(again.dataSync())).toEqual(Array.from(y.dataSync()));
      const info = m.planInfo();
      expect(info.length).toBe(1 + 16 * 3 + 4);
      expect(info.every((p) => p.backend === be)).toBe(true);
    });

    it('prepare({ backend, dtype: bfloat16 }) folds and uploads the weights before the first forward (53 conv plans in bfloat16)', async () => {
      const c = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 29 });
      const before = memory().bytesInUse;
      c.prepare({ backend: be, dtype: 'bfloat16' });
      const info = c.planInfo();
      expect(info.length).toBe(1 + 16 * 3 + 4);
      expect(info.every((p) => p.dtype === 'bfloat16' && p.backend === be)).toBe(true);
      expect(memory().bytesInUse).toBeGreaterThan(before);
      c.dispose();
    });

    it('resnext50 (C=2, d=2) x=[1,3,32,32] float32 on the device in, logits on the device out', async () => {
      const r = await reference(x1);
      const y = await m.forward(x1.to('cuda'), { backend: be });
      expect(y.device).toBe('cuda');
      expect(y.dtype).toBe('float32');
      expect(relErr(await y.data(), r)).toBeLessThanOrEqual(NET_TOL.float32);
      y.dispose();
    });

    it('resnext50 (C=2, d=2) x=[1,3,32,32] float32 with graph: true: captured once, replayed on new inputs, equal to the eager forward', async () => {
      const eager1 = (await m.forward(x1, { backend: be })).dataSync();
      const eager1b = (await m.forward(x1b, { backend: be })).dataSync();
      const g1 = (await m.forward(x1, { backend: be, graph: true })).dataSync();
      // A replay must read the new input (the graph's input buffer is rewritten in place).
      const g1b = (await m.forward(x1b, { backend: be, graph: true })).dataSync();
      const g1again = (await m.forward(x1, { backend: be, graph: true })).dataSync();
      expect(Array.from(g1)).toEqual(Array.from(eager1));
      expect(Array.from(g1b)).toEqual(Array.from(eager1b));
      expect(Array.from(g1again)).toEqual(Array.from(eager1));
      expect(relErr(g1b, await reference(x1b))).toBeLessThanOrEqual(NET_TOL.float32);
      expect(relErr(g1b, eager1)).toBeGreaterThan(1e-3);
      const before = memory().allocations;
      await m.forward(x1, { backend: be, graph: true });
      expect(memory().allocations).toBeLessThanOrEqual(before); // live count: the collector may free others meanwhile
    });

    for (const dtype of ['float16', 'bfloat16'] as const) {
      it(`resnext50 (C=2, d=2) x=[2,3,32,32] ${dtype} weights and activations on the device, float32 accumulation`, async () => {
        const r = await reference(x2);
        const y = await m.forward(x2, { backend: be, dtype });
        expect(y.shape).toEqual([2, 4]);
        const e = relErr(y.dataSync(), r);
        console.log(`whole model on ${be} in ${dtype}: normwise relative error ${e.toExponential(2)}`);
        expect(e).toBeLessThanOrEqual(NET_TOL[dtype]);
        expect(m.planInfo()[0].dtype).toBe(dtype);
      });
    }

    it.runIf(be === 'cuda' && available.includes('cudnn'))(
      'resnext50 (C=2, d=2) x=[2,3,32,32] float32 with denseConvs: cudnn: grouped convs on our kernels, ungrouped on cuDNN, matches the reference',
      async () => {
        const y = await m.forward(x2, { backend: 'cuda', denseConvs: 'cudnn', graph: true });
        expect(relErr(y.dataSync(), await reference(x2))).toBeLessThanOrEqual(NET_TOL.float32);
        const info = m.planInfo();
        const grouped = new Set(m.architecture.stages.flat().map((b) => b.conv2.name));
        for (const p of info) {
          if (grouped.has(p.name as string)) expect(p.impl).not.toBe('cudnn');
          else expect(p.impl).toBe('cudnn');
        }
      },
    );

    it.runIf(be === 'cuda')(
      "resnext50 (C=2, d=2) x=[2,3,32,32] float32 on cuda: denseConvs 'cuda' keeps every conv on our kernels; by default the ungrouped ones go to cuDNN when it is available; both match the reference",
      async () => {
        const r = await reference(x2);
        const grouped = new Set(m.architecture.stages.flat().map((b) => b.conv2.name));
        const ours = await m.forward(x2, { backend: 'cuda', denseConvs: 'cuda' });
        expect(relErr(ours.dataSync(), r)).toBeLessThanOrEqual(NET_TOL.float32);
        expect(m.planInfo().some((p) => p.impl === 'cudnn')).toBe(false);
        const dflt = await m.forward(x2, { backend: 'cuda' });
        expect(relErr(dflt.dataSync(), r)).toBeLessThanOrEqual(NET_TOL.float32);
        for (const p of m.planInfo()) {
          const onCudnn = p.impl === 'cudnn';
          expect(onCudnn).toBe(!grouped.has(p.name as string) && available.includes('cudnn'));
        }
        const c = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 30 });
        c.prepare({ backend: 'cuda', denseConvs: 'cuda' });
        expect(c.planInfo().some((p) => p.impl === 'cudnn')).toBe(false);
        c.dispose();
      },
    );

    it('per-shape device buffers: 4 input shapes kept, the least recently used one freed when a 5th arrives (x=[1,3,H,16], H=16..32)', async () => {
      const b = cudaBinding()!;
      const Original = b.DeviceBuffer;
      // Owning buffers allocated during each forward (host inputs: only the engine's per-shape buffers), and which were freed.
      let current: Set<object> | null = null;
      const freed = new Set<object>();
      b.DeviceBuffer = class extends (Original as unknown as new (...a: unknown[]) => { dispose(): void }) {
        constructor(...a: unknown[]) {
          super(...a);
          if (a[2] === undefined || a[2] === null) current?.add(this);
        }
        override dispose(): void {
          freed.add(this);
          super.dispose();
        }
      } as unknown as typeof Original;
      try {
        const c = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 31 });
        c.prepare({ backend: be });
        const xs = [16, 20, 24, 28, 32].map((h, i) => randn([1, 3, h, 16], { seed: 40 + i }));
        const bufs: Set<object>[] = [];
        const forward = async (i: number): Promise<Set<object>> => {
          const s = new Set<object>();
          current = s;
          try {
            await c.forward(xs[i], { backend: be });
          } finally {
            current = null;
          }
          return s;
        };
        for (let i = 0; i < 4; i++) bufs.push(await forward(i));
        expect(bufs.every((s) => s.size > 0)).toBe(true);
        // Shape 0 used again (nothing allocated): now shape 1 is the least recently used.
        expect((await forward(0)).size).toBe(0);
        bufs.push(await forward(4));
        const isFreed = (i: number): boolean => [...bufs[i]].every((o) => freed.has(o));
        const isLive = (i: number): boolean => [...bufs[i]].every((o) => !freed.has(o));
        expect(isFreed(1)).toBe(true);
        expect([0, 2, 3, 4].every(isLive)).toBe(true);
        expect((await forward(0)).size).toBe(0);
        c.dispose();
      } finally {
        b.DeviceBuffer = Original;
      }
    });

    it('CIFAR resnext29 (C=2, d=2, no max pool, 3 stages) x=[1,3,16,16] float32 matches the reference', async () => {
      const c = resnext({ depth: 29, cardinality: 2, width: 2, numClasses: 4, seed: 26 });
      randomizeBatchNorm(c, 27);
      const x = randn([1, 3, 16, 16], { seed: 28 });
      const r = (await c.forward(x, { backend: 'reference' })).dataSync();
      const y = await c.forward(x, { backend: be, graph: true });
      expect(relErr(y.dataSync(), r)).toBeLessThanOrEqual(NET_TOL.float32);
      c.dispose();
    });
  });
}
