// The stem CPU kernels (native/cpu/conv_stem.inc, in conv_stem_*.cc): direct
// convolution for at most 4 input channels, output pixels in the lanes and
// output channels in registers, input rows zero-padded and split into
// stride phases per band of 8 output rows. Every ISA variant is forced by name
// on every shape below and compared with the float64 TS reference (normwise
// relative error <= 1e-4, helpers/compare.ts); variants the CPU cannot run are
// skipped with the reason. The cases stress the network stem itself (7x7
// stride 2 pad 3 into 64 channels, batch 1 and 2), odd widths (a last vector
// with a few lanes, rows of fewer than one vector), K not a multiple of the
// channel tile, bands cut short (P not a multiple of 8), stride 1 and 3,
// dilation, asymmetric padding and pad 0, and one input channel.
import { describe, expect, it } from 'vitest';

import { conv2dPlan, randn } from '../lib';
import { best, type Case, describeVariants, hasAddon, ISA_RANK, type Pad, type Pair } from './helpers/kernel_cases';

const c = (n: number, ch: number, h: number, w: number, k: number, r: number, stride: Pair, padding: Pad, dilation: Pair = 1): Case => ({
  n,
  c: ch,
  h,
  w,
  k,
  r,
  s: r,
  groups: 1,
  stride,
  dilation,
  padding,
});

const cases: Case[] = [
  // The ResNet stem scaled down: 3 -> 64, 7x7 stride 2 pad 3, 45x61 in (23x31 out).
  c(2, 3, 45, 61, 64, 7, 2, 3),
  // The real stem geometry on one image: 224x224 in, 112x112 out (7 vectors a row, 14 bands).
  c(1, 3, 224, 224, 64, 7, 2, 3),
  // Rows of 75 outputs (5 vectors of 16: tiles of 3 and 2) and 10 output rows (a band of 8, then 2).
  c(1, 3, 20, 150, 32, 7, 2, 3),
  // K = 13 (a partial channel tile), 5x5 stride 2 on 37x53 (19x27 out).
  c(3, 3, 37, 53, 13, 5, 2, 2),
  // One input channel, 3x3 stride 1 pad 1, rows of 7 (less than one vector), K = 20.
  c(2, 1, 17, 7, 20, 3, 1, 1),
  // Four input channels, stride 3, pad 0, 7x7 on 40x71.
  c(1, 4, 40, 71, 16, 7, 3, 0),
  // Asymmetric padding [top, left, bottom, right] = [3, 2, 0, 1], stride [2, 1], dilation 2.
  c(2, 2, 29, 35, 24, 3, [2, 1], [3, 2, 0, 1], 2),
];

describe.skipIf(!hasAddon)('cpu stem kernels vs float64 reference', () => describeVariants('stem', cases, 701));

describe.skipIf(!hasAddon)('cpu stem kernel dispatch', () => {
  const plan = (shape: [number, number, number, number], opts: Record<string, unknown>) =>
    conv2dPlan(randn(shape, { seed: 1 }), { ...opts, backend: 'cpu' });

  it(`picks stem_${best} for the ResNet stem (w=[64,3,7,7] s=2 p=3), also under algorithm 'direct'`, () => {
    for (const algorithm of ['auto', 'direct'] as const) {
      const p = plan([64, 3, 7, 7], { padding: 3, stride: 2, algorithm });
      expect(p.info().impl).toBe(`stem_${best}`);
      p.dispose();
    }
  });

  it('leaves 5 input channels to the other kernels, with the reason', () => {
    const p = plan([64, 5, 7, 7], { padding: 3, stride: 2 });
    expect(p.info().impl).not.toMatch(/^stem_/);
    expect((p.info().fallbacks as string[]).some((f) => f.startsWith(`stem_${best}: needs at most 4 input channels`))).toBe(true);
    p.dispose();
  });

  it('refuses a grouped convolution when forced (w=[4,2,3,3] g=2), with the reason', () => {
    expect(() => plan([4, 2, 3, 3], { padding: 1, groups: 2, impl: `stem_${best}` })).toThrow(`stem_${best}: needs groups 1`);
  });

  it('ISA caps pick stem_avx2 and stem_scalar', () => {
    for (const isa of ['avx2', 'scalar'] as const) {
      if (ISA_RANK[best] < ISA_RANK[isa]) continue;
      const p = plan([64, 3, 7, 7], { padding: 3, stride: 2, isa });
      expect(p.info().impl).toBe(`stem_${isa}`);
      p.dispose();
    }
  });
});
