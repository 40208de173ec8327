// The `algorithm` option: 'auto' lets dense 3x3 stride-1 and stride-2 convs run
// Winograd on the cpu backend, 'direct' keeps every conv a direct convolution. Checks the
// kernel each choice picks (with the reason recorded for the skipped Winograd
// rows), that both agree with the float64 reference, that the model forward
// honours it on both CPU paths, and the errors for bad values.
import { describe, expect, it } from 'vitest';

import { conv2d, conv2dPlan, cpuInfo, randn, resnet50 } from '../lib';
import { REL_TOL, relErr } from './helpers/compare';
import { hasAddon } from './helpers/kernel_cases';

describe('algorithm option: validation', () => {
  const w = randn([8, 8, 3, 3], { seed: 1 });
  it("rejects a string other than 'auto' or 'direct' with a RangeError naming algorithm and the value", () => {
    expect(() => conv2dPlan(w, { algorithm: 'fast' as never, backend: 'reference' })).toThrow(RangeError);
    expect(() => conv2dPlan(w, { algorithm: 'fast' as never, backend: 'reference' })).toThrow(/algorithm.*fast/);
  });
  it('rejects a non-string with a TypeError naming algorithm', () => {
    expect(() => conv2dPlan(w, { algorithm: 1 as never, backend: 'reference' })).toThrow(TypeError);
    expect(() => conv2dPlan(w, { algorithm: 1 as never, backend: 'reference' })).toThrow(/algorithm/);
  });
  it("the reference backend accepts 'direct' (it is always direct)", () => {
    const x = randn([1, 8, 5, 5], { seed: 2 });
    const a = conv2d(x, w, { padding: 1, backend: 'reference', algorithm: 'direct' }).dataSync();
    const b = conv2d(x, w, { padding: 1, backend: 'reference' }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe.skipIf(!hasAddon)('algorithm option on the cpu backend', () => {
  // Dense 3x3 stride 1, odd sizes: a Winograd shape.
  const x = randn([2, 24, 11, 13], { seed: 3 });
  const w = randn([40, 24, 3, 3], { seed: 4 });
  const bias = randn([40], { seed: 5 });
  const ref = conv2d(x, w, { padding: 1, bias, activation: 'relu', backend: 'reference' }).dataSync();

  it("x=[2,24,11,13] w=[40,24,3,3] p=1: 'auto' runs winograd, 'direct' a direct kernel with the reason recorded; both match the reference", () => {
    const auto = conv2dPlan(w, { padding: 1, bias, activation: 'relu', backend: 'cpu' });
    const direct = conv2dPlan(w, { padding: 1, bias, activation: 'relu', backend: 'cpu', algorithm: 'direct' });
    const ai = auto.info() as { impl: string; fallbacks: string[] };
    const di = direct.info() as { impl: string; fallbacks: string[] };
    expect(ai.impl).toMatch(/^winograd_/);
    expect(di.impl).not.toMatch(/^winograd_/);
    expect(di.fallbacks.some((f) => /^winograd_\w+: excluded by algorithm 'direct'$/.test(f))).toBe(true);
    expect(relErr(auto.run(x).dataSync(), ref)).toBeLessThanOrEqual(REL_TOL);
    expect(relErr(direct.run(x).dataSync(), ref)).toBeLessThanOrEqual(REL_TOL);
  });

  it("x=[2,24,11,13] w=[40,24,3,3] stride 2: 'auto' picks the stride-2 Winograd kernel and 'direct' gemm, both matching the reference", () => {
    const a = conv2dPlan(w, { padding: 1, stride: 2, backend: 'cpu' });
    const d = conv2dPlan(w, { padding: 1, stride: 2, backend: 'cpu', algorithm: 'direct' });
    if (cpuInfo()?.best === 'avx512') {
      expect(a.info().impl).toBe('winograd_s2_avx512');
      expect(d.info().impl).toBe('gemm_avx512');
      expect(d.info().fallbacks).toContain("winograd_s2_avx512: excluded by algorithm 'direct'");
    }
    const ref = conv2d(x, w, { padding: 1, stride: 2, backend: 'reference' }).dataSync();
    expect(relErr(a.run(x).dataSync(), ref)).toBeLessThanOrEqual(REL_TOL);
    expect(relErr(d.run(x).dataSync(), ref)).toBeLessThanOrEqual(REL_TOL);
    a.dispose();
    d.dispose();
  });

  it("resnet50 on 1x3x64x64: forward with algorithm 'direct' has no winograd plan, 'auto' has some, and their logits agree", async () => {
    const m = resnet50({ seed: 7 });
    const input = randn([1, 3, 64, 64], { seed: 8 });
    for (const mode of ['network', 'layer'] as const) {
      const yd = (await m.forward(input, { backend: 'cpu', mode, algorithm: 'direct' })).dataSync().slice();
      const impls = (info: Record<string, unknown>[]) => info.map((p) => String(p.impl));
      // Neither NCHW Winograd nor the blocked one (winograd3x3_nchw16c_*, layer1-2 in mode 'network').
      expect(impls(m.planInfo()).some((i) => i.startsWith('winograd'))).toBe(false);
      // tune: false: the cost model's kernels (tune may measure direct faster for every conv of a 64x64 input).
      const ya = (await m.forward(input, { backend: 'cpu', mode, tune: false })).dataSync().slice();
      expect(impls(m.planInfo()).some((i) => i.startsWith('winograd'))).toBe(true);
      expect(relErr(ya, yd)).toBeLessThanOrEqual(REL_TOL);
    }
    await expect(m.forward(input, { backend: 'cpu', algorithm: 'winograd' as never })).rejects.toThrow(RangeError);
  });
});
