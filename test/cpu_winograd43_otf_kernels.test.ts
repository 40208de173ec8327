// The F(4x4, 3x3) kernel that transforms its weights per run from the raw 3x3
// taps (native/cpu/conv_winograd43_otf_avx512.cc): groups 1 with 14 to 256
// channels, or grouped with 14 to 128 channels per group; stride 1. Never the
// cost model's pick: a network times it against winograd_grouped_avx512
// (test/network_tune.test.ts). Forced by name on every
// shape below and compared with the float64 TS reference (normwise relative
// error <= 1e-4, helpers/compare.ts), with the fused epilogue (bias, residual,
// ReLU); skipped with the reason on a CPU without AVX-512 (other ISAs keep
// winograd_grouped_avx512 or gemm, which never pick this row).
// The shapes stress what it special-cases: batch 1 and 2 (one chunk of
// blocks: each weight transformed once), 256 channels (the limit; 4 blocks of
// 64 input channels), 48 channels (one partial block of input channels), input
// channels not a multiple of 64 (200: a 8-channel last block) and output
// channels not a multiple of the 16-channel panel (40, 17), 14 channels (the
// lower limit), odd outputs (13x13, 9x15: partial 16x16 blocks), several
// blocks per image, batches of more blocks than one chunk holds (256 channels
// at batch 3; 48 channels over 18 blocks), pad 0, pad 2 and asymmetric padding.
// Grouped: ResNeXt-50's layer3 (512@14, 32 groups of 16) at batch 1 and 2, 15
// output channels per group (one partial panel per group), 32 per group (two
// panels), 96 per group (two blocks of input channels, 64 + 32), 128 and 14
// per group (the limits), and a batch whose blocks take two chunks per group.
// Outputs of at most 8x8 (7x7, 8x8) go to the F(2x2) run on the same taps.
import { describe, expect, it } from 'vitest';

import { conv2dPlan, randn } from '../lib';
import {
  best,
  type Case,
  dense3x3Case,
  describeVariants,
  grouped3x3Case,
  hasAddon,
  itSplitsThreads,
  expectRefusals,
  OTF_REFUSALS,
} from './helpers/kernel_cases';

const c = dense3x3Case(1);
const g = (groups: number, n: number, ch: number, h: number, w: number, k: number, padding: Case['padding']): Case =>
  grouped3x3Case(n, ch, h, w, k, groups, padding);

const cases: Case[] = [
  // ResNet-50's layer3 (256@14) at batch 1 and 2.
  c(1, 256, 14, 14, 256, 1),
  c(2, 256, 14, 14, 256, 1),
  // 13x13 and 9x15 outputs (partial blocks), 48 channels, batch 1 and 2.
  c(1, 48, 13, 13, 48, 1),
  c(2, 48, 9, 15, 48, 1),
  // 256 channels at 13x13 and batch 3: three blocks, two chunks (each transforms the weights).
  c(3, 256, 13, 13, 256, 1),
  // 200 in (a last block of 8 input channels), 40 out (two and a half panels), 9x15.
  c(1, 200, 9, 15, 40, 1),
  // 17 out (a panel and one channel), 48 in, asymmetric padding [top, left, bottom, right] = [2, 1, 0, 3].
  c(2, 48, 11, 10, 17, [2, 1, 0, 3]),
  // 14 channels (the lower limit), pad 0; 64 channels, pad 2.
  c(2, 14, 12, 10, 14, 0),
  c(1, 64, 9, 9, 64, 2),
  // 48 channels on 40x45 at batch 2: 3x3 blocks per image, 18 blocks in three chunks of six.
  c(2, 48, 40, 45, 48, 1),
  // Grouped: ResNeXt-50's layer3 3x3 (512@14, 32 groups of 16) at batch 1 and 2.
  g(32, 1, 512, 14, 14, 512, 1),
  g(32, 2, 512, 14, 14, 512, 1),
  // 3 groups of 16 in and 15 out (a partial panel per group), 13x13, asymmetric padding.
  g(3, 2, 48, 13, 13, 45, [2, 1, 0, 3]),
  // 4 groups of 32 (two panels each), 9x15; 2 groups of 96 in (input channel blocks of 64 and 32), pad 0.
  g(4, 1, 128, 9, 15, 128, 1),
  g(2, 1, 192, 10, 12, 64, 0),
  // 2 groups of 128 (the limit), pad 2; 3 groups of 14 (the lower limit).
  g(2, 1, 256, 9, 9, 256, 2),
  g(3, 2, 42, 11, 10, 42, 1),
  // 2 groups of 32 on 40x45 at batch 2: 18 blocks, chunks of six per group.
  g(2, 2, 64, 40, 45, 64, 1),
  // Outputs of at most 8x8 run F(2x2) on the same raw taps (winograd22_otf_avx512's run): ResNeXt-50's layer4
  // (1024@7, 32 groups of 32) at batch 1, and a dense 8x8 (64 channels, pad 0 on 10x10).
  g(32, 1, 1024, 7, 7, 1024, 1),
  c(2, 64, 10, 10, 64, 0),
];

describe.skipIf(!hasAddon)('cpu F(4x4) kernel with per-run weight transforms (dense and grouped) vs float64 reference', () =>
  describeVariants('winograd43_otf', cases, 431, ['avx512']),
);

// Each thread takes a range of output panels; every output is computed the
// same way whatever the split, so runs at 1, 2, 3 and 7 threads must be bit
// for bit the same (and each weight transformed by exactly one range).
describe.skipIf(!hasAddon || best !== 'avx512')('cpu F(4x4) per-run transforms: output panels across threads', () => {
  itSplitsThreads('winograd43_otf_avx512', [
    [1, 256, 14, 14, 1],
    [2, 48, 13, 13, 1],
    // Grouped: a task per group and chunk, panels split only when those are fewer than the threads.
    [1, 512, 14, 14, 32],
    [1, 64, 13, 13, 2],
  ] as const);
});

describe.skipIf(!hasAddon)('cpu F(4x4) per-run transforms: dispatch', () => {
  it.skipIf(best !== 'avx512')(
    'refuses stride 2, dilation 2, 8 and 288 channels, 8 and 144 channels per group when forced, with the reason',
    () => {
      expectRefusals('winograd43_otf_avx512', [
        ...OTF_REFUSALS,
        [[288, 288, 3, 3], { padding: 1 }, 'needs at most 256 input and output channels'],
      ]);
    },
  );

  it('is never the cost model pick (w=[256,256,3,3] p=1 gets winograd_grouped_avx512 with AVX-512); packed bytes are the raw taps', () => {
    const w = randn([256, 256, 3, 3], { seed: 2 });
    const p = conv2dPlan(w, { padding: 1, backend: 'cpu' });
    expect(p.info().impl).not.toBe('winograd43_otf_avx512');
    if (best === 'avx512') {
      expect(p.info().impl).toBe('winograd_grouped_avx512');
      const o = conv2dPlan(w, { padding: 1, backend: 'cpu', impl: 'winograd43_otf_avx512' });
      expect(o.info().packedBytes).toBe(256 * 256 * 9 * 4);
      o.dispose();
    }
    p.dispose();
  });

  it("grouped w=[512,16,3,3] g=32 p=1 (ResNeXt-50 layer3): the cost model keeps winograd_grouped_avx512; forced, the packed bytes are the raw taps (a quarter of F(4x4)'s)", () => {
    const w = randn([512, 16, 3, 3], { seed: 3 });
    const p = conv2dPlan(w, { groups: 32, padding: 1, backend: 'cpu' });
    expect(p.info().impl).not.toBe('winograd43_otf_avx512');
    if (best === 'avx512') {
      expect(p.info().impl).toBe('winograd_grouped_avx512');
      const o = conv2dPlan(w, { groups: 32, padding: 1, backend: 'cpu', impl: 'winograd43_otf_avx512' });
      expect(o.info().packedBytes).toBe(512 * 16 * 9 * 4);
      // Small outputs take F(2x2) on the same taps, which info() says.
      expect(o.info().perRun).toMatch(/F\(2x2,3x3\) on outputs of at most 8 rows or columns/);
      o.dispose();
    }
    p.dispose();
  });
});
