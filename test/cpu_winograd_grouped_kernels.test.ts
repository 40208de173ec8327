// The grouped Winograd CPU kernel (native/cpu/conv_winograd_grouped_avx512.cc):
// 3x3 stride-1 convolutions with 14 to 128 channels per group, tiles in 4x4
// blocks per vector. Each run picks its tile size from the output size:
// F(2x2, 3x3) when 8x8 blocks of outputs use the lanes much better (outputs of
// at most 8 rows or columns), else F(4x4, 3x3) (conv_winograd_grouped_f43_avx512.cc);
// each case below says which it takes. It is forced by name on every shape below and compared
// with the float64 TS reference (normwise relative error <= 1e-4, see
// helpers/compare.ts); skipped with the reason on a CPU without AVX-512.
// The shapes stress what the kernel special-cases: ResNeXt's 16 and 32
// channels per group (7x7 and 14x14 outputs: partial 4x4 blocks of tiles), 14
// per group (the lower limit, ResNeXt-50 8x14d's first stage),
// channels per group not a multiple of the 16-channel panel (24, 17 in, 40
// out), outputs one tile wide and high, odd H and W (the last output row and
// column of a tile dropped), pad 0, pad 2 and asymmetric padding, batch 5
// (chunks of blocks spanning images), one, two and three blocks per task, a
// wide image (blocks in a row), 128 channels per group, and the fused
// epilogue (bias, residual, ReLU); dense convs (one group of 14 to 128
// channels, which it runs too: ResNet's 64@56, 128@28 and 256@14 3x3s); and
// outputs of at most 8x8 at batch 3 and more, which run F(4x4) with four
// images per vector (conv_winograd_grouped_f43x4_avx512.cc): full and partial
// blocks of images, odd sizes, padding 0 and 2 and asymmetric.
import { describe, expect, it } from 'vitest';

import { conv2dPlan, randn } from '../lib';
import { best, type Case, checkThreadSplit, describeVariants, grouped3x3Case, hasAddon } from './helpers/kernel_cases';

const c = grouped3x3Case;

const cases: Case[] = [
  // ResNeXt-50 conv5 and conv4 shapes, scaled down in groups: 7x7 (F(2x2), one block) and 14x14 (F(4x4), one block).
  c(1, 128, 7, 7, 128, 4, 1),
  c(2, 64, 14, 14, 64, 4, 1),
  // F(4x4): 17 input and 24 output channels per group (K a panel and a half), odd H and W (9x11), batch 5.
  c(5, 51, 9, 11, 72, 3, 1),
  // F(2x2): 40 output channels per group (two and a half panels), pad 0 on an odd image (9x8 out).
  c(1, 32, 11, 10, 80, 2, 0),
  // F(2x2): outputs one wide and one high (pad 0), pad 2.
  c(2, 32, 6, 3, 32, 2, 0),
  c(1, 32, 3, 7, 32, 2, 0),
  c(3, 48, 5, 6, 48, 3, 2),
  // F(4x4): asymmetric padding [top, left, bottom, right] = [2, 1, 0, 3] (9x10 out).
  c(2, 34, 9, 8, 36, 2, [2, 1, 0, 3]),
  // F(4x4): a wide image, three blocks side by side in a row, one task's chunk.
  c(1, 32, 10, 45, 32, 2, 1),
  // F(2x2): 128 channels per group (the upper limit).
  c(1, 256, 6, 6, 256, 2, 1),
  // F(4x4): 14 channels per group (the lower limit), 8 groups, two blocks in a row.
  c(1, 112, 13, 21, 112, 8, 1),
  // F(4x4): 48 per group (three blocks per task), two blocks per image and batch 3: a chunk spans two images.
  c(3, 96, 14, 30, 96, 2, 1),
  // F(4x4): 128 and 64 per group (one block per task), the 64 on a 2x2 grid of partial blocks with asymmetric padding.
  c(1, 256, 11, 12, 256, 2, [1, 0, 1, 0]),
  c(2, 128, 33, 18, 128, 2, [0, 2, 1, 1]),
  // Dense (one group): ResNet-50's 64@56 scaled to 19x23 (F(4x4), partial blocks), 128 channels on 28x28 at batch 2,
  // 20 in and 36 out (K past a panel) on 7x7 (F(2x2)), 14 channels (the lower limit) with pad 0.
  c(1, 64, 19, 23, 64, 1, 1),
  c(2, 128, 28, 28, 128, 1, 1),
  c(1, 20, 7, 7, 36, 1, 1),
  c(2, 14, 12, 10, 14, 1, 0),
  // Dense 256 channels (the dense limit, ResNet-50's layer3 scaled to 11x13), 200 in and 256 out.
  c(1, 256, 11, 13, 256, 1, 1),
  c(1, 200, 10, 9, 256, 1, 1),
  // F(4x4) with four images per vector (outputs of at most 8x8 at batch 3 and more): ResNeXt-50 conv5 scaled down in
  // groups at batch 8 (two full blocks of four images, one task's chunk), batch 6 (a block of two images), batch 3
  // (one block of three) with 17 in and 20 out per group (K past a panel) on 5x5, 7x5 outputs with pad 0 at batch 7.
  c(8, 128, 7, 7, 128, 4, 1),
  c(6, 64, 7, 7, 64, 2, 1),
  c(3, 34, 5, 5, 40, 2, 1),
  c(7, 32, 9, 7, 32, 2, 0),
  // Four images per vector: pad 2 (7x8 out), asymmetric padding [2, 1, 0, 1] with 14 per group (the lower limit,
  // 6x8 out), 128 per group (one block per task), and dense 64 channels on 3x3 at batch 9 (three blocks, the last
  // with one image; three one-block tasks, so the output panels are split across the threads).
  c(4, 48, 5, 6, 48, 3, 2),
  c(3, 28, 6, 8, 28, 2, [2, 1, 0, 1]),
  c(4, 256, 4, 4, 256, 2, 1),
  c(9, 64, 3, 3, 64, 1, 1),
];

describe.skipIf(!hasAddon)('cpu grouped winograd kernel vs float64 reference', () =>
  describeVariants('winograd_grouped', cases, 401, ['avx512']),
);

// A run with fewer (group, chunk of blocks) tasks than two per thread splits
// each task's output panels (16 channels) into ranges across the threads: a
// dense conv on a 14x14 or 7x7 image at batch 1 is one task. Every output is
// computed the same way whatever the split, so the result must be bit for bit
// the same at 1, 2, 3 and 7 threads, and agree with the reference.
describe.skipIf(!hasAddon || best !== 'avx512')('cpu grouped winograd kernel: output channels split across threads', () => {
  const shapes: [string, number[], number[], number][] = [
    // [name, x, w, groups]: one F(4x4) block, 16 panels (ResNet-50 layer3's 256@14 at batch 1)
    ['x=[1,256,14,14] w=[256,256,3,3] (one F(4x4) block, 16 panels)', [1, 256, 14, 14], [256, 256, 3, 3], 1],
    // one F(2x2) block, 3 panels, the last of 4 channels
    ['x=[1,20,7,7] w=[36,20,3,3] (one F(2x2) block, 2.25 panels)', [1, 20, 7, 7], [36, 20, 3, 3], 1],
    // two groups of one block: 2 tasks, split at 3 and 7 threads
    ['x=[1,64,5,6] w=[80,32,3,3] g=2 (2 groups x 1 block, 2.5 panels each)', [1, 64, 5, 6], [80, 32, 3, 3], 2],
    // F(4x4) four images per vector: two blocks of one dense group (64 channels: one block per task), 4 panels
    ['x=[5,64,7,7] w=[64,64,3,3] (two four-image F(4x4) blocks, 4 panels)', [5, 64, 7, 7], [64, 64, 3, 3], 1],
  ];
  for (const [name, xs, ws, groups] of shapes) {
    it(`${name}: bias, residual, ReLU; threads 1, 2, 3, 7 bit-identical and <= 1e-4 of the reference`, () =>
      checkThreadSplit('winograd_grouped_avx512', xs, ws, groups));
  }
});

describe.skipIf(!hasAddon)('cpu grouped winograd kernel dispatch', () => {
  const plan = (shape: [number, number, number, number], opts: Record<string, unknown>) =>
    conv2dPlan(randn(shape, { seed: 1 }), { ...opts, backend: 'cpu' });

  it.skipIf(best !== 'avx512')(
    'picks winograd_grouped_avx512 for ResNeXt-50 conv4 and conv5 (w=[512,16,3,3] and w=[1024,32,3,3] g=32 p=1) and 8x14d conv2 (w=[112,14,3,3] g=8)',
    () => {
      for (const [shape, groups] of [
        [[512, 16, 3, 3], 32],
        [[1024, 32, 3, 3], 32],
        [[112, 14, 3, 3], 8],
      ] as const) {
        const p = plan([...shape] as [number, number, number, number], { groups, padding: 1 });
        expect(p.info().impl).toBe('winograd_grouped_avx512');
        // The tile size is chosen per run, from the output size: info() says so.
        expect(p.info().perRun).toMatch(/^F\(4x4,3x3\) tiles; F\(2x2,3x3\) when .*at most 8 rows or columns/);
        p.dispose();
      }
    },
  );

  it.skipIf(best !== 'avx512')('picks it for dense 3x3s of 64, 128 and 256 channels (w=[K,K,3,3] p=1), not 288 (w=[288,288,3,3])', () => {
    for (const [k, impl] of [
      [64, 'winograd_grouped_avx512'],
      [128, 'winograd_grouped_avx512'],
      [256, 'winograd_grouped_avx512'],
      [288, 'winograd_avx512'],
    ] as const) {
      const p = plan([k, k, 3, 3], { padding: 1 });
      expect(p.info().impl).toBe(impl);
      p.dispose();
    }
  });

  it.skipIf(best !== 'avx512')(
    'refuses stride 2, dilation 2, 8 and 256 channels per group (dense 8 and 288) when forced, with the reason',
    () => {
      for (const [shape, opts, why] of [
        [[512, 16, 3, 3], { groups: 32, padding: 1, stride: 2 }, 'needs stride 1'],
        [[512, 16, 3, 3], { groups: 32, padding: 2, dilation: 2 }, 'needs dilation 1'],
        [[8, 8, 3, 3], { padding: 1 }, 'fewer than 14 channels per group'],
        [[288, 288, 3, 3], { padding: 1 }, 'dense with more than 256 channels'],
        [[256, 8, 3, 3], { groups: 32, padding: 1 }, 'fewer than 14 channels per group'],
        [[512, 256, 3, 3], { groups: 2, padding: 1 }, 'more than 128 channels per group'],
      ] as const) {
        expect(() => plan([...shape] as [number, number, number, number], { ...opts, impl: 'winograd_grouped_avx512' })).toThrow(
          `winograd_grouped_avx512: ${why}`,
        );
        const p = plan([...shape] as [number, number, number, number], opts);
        expect(p.info().impl).not.toBe('winograd_grouped_avx512');
        p.dispose();
      }
    },
  );

  it("algorithm 'direct' skips it (w=[1024,32,3,3] g=32), and an ISA cap of avx2 falls back to gemm_avx2 with the reason", () => {
    const d = plan([1024, 32, 3, 3], { groups: 32, padding: 1, algorithm: 'direct' });
    expect(d.info().impl).not.toMatch(/^winograd/);
    if (best === 'avx512') expect(d.info().fallbacks).toContain("winograd_grouped_avx512: excluded by algorithm 'direct'");
    d.dispose();
    if (best === 'scalar') return;
    const a = plan([1024, 32, 3, 3], { groups: 32, padding: 1, isa: 'avx2' });
    expect(a.info().impl).toBe('gemm_avx2');
    a.dispose();
  });
});
