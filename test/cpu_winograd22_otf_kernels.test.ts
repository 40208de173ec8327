// The F(2x2, 3x3) kernel that transforms its weights per run from the raw 3x3
// taps (native/cpu/conv_winograd22_otf_avx512.cc): groups 1 with 14+
// channels, or grouped with 14 to 128 channels per group; stride 1. Never the
// cost model's pick: a network times it against winograd_avx512
// (ConvImpl::alternate; test/network_tune.test.ts), and winograd43_otf_avx512
// runs it on outputs of at most 8x8 (test/cpu_winograd43_otf_kernels.test.ts). Forced by
// name on every shape below and compared with the float64 TS reference
// (normwise relative error <= 1e-4, helpers/compare.ts), with the fused
// epilogue (bias, residual, ReLU); skipped with the reason on a CPU without
// AVX-512.
// The shapes stress what it special-cases: ResNet-50's layer4 (512@7: 16 blocks
// of 32 input channels, one 8x8 block per image) at batch 1 and 2 (one chunk)
// and 3 (two chunks, each transforming the weights), input channels not a
// multiple of 32 (100: a 4-channel last block) and output channels not a
// multiple of the 16-channel panel (40, 17), 14 channels (the lower limit),
// odd outputs (13x13, 9x15: partial 8x8 blocks, several per image), pad 0,
// pad 2 and asymmetric padding. Grouped: ResNeXt-50's layer4 (1024@7, 32
// groups of 32) at batch 1 and 3 (chunks per group), 16 in and 15 out per
// group (a partial panel), 48 per group (a second block of input channels),
// 128 and 14 per group (the limits), 13x13 (four 8x8 blocks).
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
  // ResNet-50's layer4 (512@7) at batch 1, 2 and 3.
  c(1, 512, 7, 7, 512, 1),
  c(2, 512, 7, 7, 512, 1),
  c(3, 512, 7, 7, 512, 1),
  // 13x13 and 9x15 outputs (partial blocks, several per image), 48 channels.
  c(1, 48, 13, 13, 48, 1),
  c(2, 48, 9, 15, 48, 1),
  // 100 in (a last block of 4 input channels), 40 out (two and a half panels), 7x7.
  c(2, 100, 7, 7, 40, 1),
  // 17 out (a panel and one channel), 48 in, asymmetric padding [top, left, bottom, right] = [2, 1, 0, 3].
  c(2, 48, 11, 10, 17, [2, 1, 0, 3]),
  // 14 channels (the lower limit), pad 0; 64 channels, pad 2.
  c(2, 14, 12, 10, 14, 0),
  c(1, 64, 9, 9, 64, 2),
  // Grouped: ResNeXt-50's layer4 3x3 (1024@7, 32 groups of 32) at batch 1 and 3.
  g(32, 1, 1024, 7, 7, 1024, 1),
  g(32, 3, 1024, 7, 7, 1024, 1),
  // 3 groups of 16 in and 15 out (a partial panel per group), 13x13, asymmetric padding.
  g(3, 2, 48, 13, 13, 45, [2, 1, 0, 3]),
  // 2 groups of 48 in (input channel blocks of 32 and 16) and 32 out, pad 0; 2 of 128 (the limit), pad 2.
  g(2, 1, 96, 9, 9, 64, 0),
  g(2, 1, 256, 7, 7, 256, 2),
  // 3 groups of 14 (the lower limit).
  g(3, 2, 42, 8, 8, 42, 1),
];

describe.skipIf(!hasAddon)('cpu F(2x2) kernel with per-run weight transforms (dense and grouped) vs float64 reference', () =>
  describeVariants('winograd22_otf', cases, 221, ['avx512']),
);

// Each thread takes a range of output panels; every output is computed the
// same way whatever the split, so runs at 1, 2, 3 and 7 threads must be bit
// for bit the same.
describe.skipIf(!hasAddon || best !== 'avx512')('cpu F(2x2) per-run transforms: output panels across threads', () => {
  itSplitsThreads('winograd22_otf_avx512', [
    [1, 512, 7, 7, 1],
    [2, 48, 13, 13, 1],
    // Grouped: a task per group and chunk, panels split only when those are fewer than the threads.
    [1, 1024, 7, 7, 32],
    [1, 64, 9, 9, 2],
  ] as const);
});

describe.skipIf(!hasAddon)('cpu F(2x2) per-run transforms: dispatch', () => {
  it.skipIf(best !== 'avx512')(
    'refuses 8 and 144 channels per group, stride 2, dilation 2, 8 channels and 1x1 when forced, with the reason',
    () => {
      expectRefusals('winograd22_otf_avx512', OTF_REFUSALS);
    },
  );

  it('is never the cost model pick (w=[512,512,3,3] p=1 gets winograd_avx512 with AVX-512); packed bytes are the raw taps', () => {
    const w = randn([512, 512, 3, 3], { seed: 2 });
    const p = conv2dPlan(w, { padding: 1, backend: 'cpu' });
    expect(p.info().impl).not.toBe('winograd22_otf_avx512');
    if (best === 'avx512') {
      expect(p.info().impl).toBe('winograd_avx512');
      const o = conv2dPlan(w, { padding: 1, backend: 'cpu', impl: 'winograd22_otf_avx512' });
      expect(o.info().packedBytes).toBe(512 * 512 * 9 * 4);
      o.dispose();
    }
    p.dispose();
  });
});
