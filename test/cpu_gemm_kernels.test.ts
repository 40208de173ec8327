// The GEMM-style CPU kernels (native/cpu/conv_gemm_*.cc): dense convolutions
// (1x1 of any stride, 3x3, the 7x7 stem) and grouped ones with 16 or more
// channels per group. Every ISA variant is forced by name on every shape below
// and compared with the float64 TS reference (normwise relative error <= 1e-4,
// see helpers/compare.ts); variants the CPU cannot run are skipped with the
// reason. The shapes stress what the kernel special-cases: output channels not
// a multiple of the register block (17, 33), pixel counts not a multiple of the
// tile, 1x1 stride 1 (B read from the input, tail chunk from the slab), 1x1
// stride 2 (one stride phase), 3x3 and 7x7 with stride 2 and 3 (phase-split
// slab), dilation and asymmetric padding, more than one kd block (Cg*R*S >
// 128), more than one block of output channels (K > 256), small images that
// take the transposed micro-kernel (channels in the lanes), the fused epilogue
// and batches 1 and 5.
import { describe, expect, it } from 'vitest';

import { conv2dPlan, randn } from '../lib';
import { best, type Case, describeVariants, hasAddon, ISA_RANK, type Pad, type Pair } from './helpers/kernel_cases';

const c = (
  n: number,
  ch: number,
  h: number,
  w: number,
  k: number,
  r: number,
  s: number,
  groups: number,
  stride: Pair,
  dilation: Pair,
  padding: Pad,
): Case => ({
  n,
  c: ch,
  h,
  w,
  k,
  r,
  s,
  groups,
  stride,
  dilation,
  padding,
});

const cases: Case[] = [
  // 1x1 stride 1: odd K and C, pixel count not a multiple of the tile.
  c(1, 33, 9, 13, 17, 1, 1, 1, 1, 1, 0),
  // 1x1 stride 1 with several pixel chunks (B straight from the input, last chunk from the slab), batch 5.
  c(5, 20, 16, 21, 40, 1, 1, 1, 1, 1, 0),
  // 1x1 stride 1 on the normal path with several strips per chunk and tiles of output channels (K = 37: the
  // last tile partial), batch 3: each tile prefetches the next tile's output and residual rows and the next
  // strip's input rows, across tile, strip and image boundaries. Same shape at C = 64, K = 19.
  c(3, 24, 20, 23, 37, 1, 1, 1, 1, 1, 0),
  c(2, 64, 17, 31, 19, 1, 1, 1, 1, 1, 0),
  // 1x1 stride 2 (subsampled), odd everything.
  c(1, 17, 15, 15, 33, 1, 1, 1, 2, 1, 0),
  // 1x1 stride 2 whose bottom padding adds an output row past the input (must read zeros, not the next rows).
  c(6, 4, 7, 2, 5, 1, 1, 1, 2, 1, [0, 0, 2, 0]),
  // 1x1 with more than one block of output channels (K > 256).
  c(1, 16, 12, 10, 300, 1, 1, 1, 1, 1, 0),
  // 1x1 with two kd blocks (C = 520 > 512 per block), B read from the input.
  c(1, 520, 12, 12, 20, 1, 1, 1, 1, 1, 0),
  // Dense 3x3 pad 1, odd K and C, batch 5.
  c(5, 17, 12, 11, 33, 3, 3, 1, 1, 1, 1),
  // Dense 3x3 stride 2 pad 1 (four stride phases).
  c(1, 16, 15, 14, 24, 3, 3, 1, 2, 1, 1),
  // Dense 3x3 with three kd blocks (C*9 = 360 > 128), 7x7-like small output.
  c(1, 40, 6, 7, 19, 3, 3, 1, 1, 1, 1),
  // The stem: 7x7 stride 2 pad 3, three input channels.
  c(1, 3, 29, 30, 20, 7, 7, 1, 2, 1, 3),
  // Dilation 2 and asymmetric padding.
  c(1, 16, 10, 13, 17, 3, 3, 1, 1, 2, [2, 1, 0, 3]),
  // 5x5 stride 3 (three phases per axis, only some used), padding 2.
  c(1, 5, 17, 16, 9, 5, 5, 1, 3, 1, 2),
  // Rectangular kernel and strides.
  c(1, 8, 11, 9, 12, 3, 1, 1, [2, 1], 1, [1, 0]),
  // Grouped, 16 channels per group, Kg = 24 (not a multiple of the block), two kd blocks.
  c(1, 32, 9, 10, 48, 3, 3, 2, 1, 1, 1),
  // Grouped, 32 channels per group at 7x7, batch 5.
  c(5, 64, 7, 7, 64, 3, 3, 2, 1, 1, 1),
  // Grouped, 16 per group, stride 2 (ResNeXt first-block shape, scaled down).
  c(1, 64, 14, 14, 64, 3, 3, 4, 2, 1, 1),
  // Small image, K = 272 (several channel blocks on the transposed path), two kd blocks, batch 5.
  c(5, 40, 6, 6, 272, 3, 3, 1, 1, 1, 1),
  // Short output rows (two rows per micro-kernel call, an odd row left over): K = 48 (two vectors + one
  // for AVX-512) and K = 8 (AVX2), batch 2.
  c(1, 32, 5, 5, 48, 3, 3, 1, 1, 1, 1),
  c(2, 16, 5, 3, 8, 3, 3, 1, 1, 1, 1),
  // 1x1 at 7x7 (transposed path reading the input directly) and at 7x7 stride 2.
  c(1, 96, 7, 7, 64, 1, 1, 1, 1, 1, 0),
  c(5, 48, 14, 13, 32, 1, 1, 1, 2, 1, 0),
  // 3x3 stride 2 with Cg*9 >= 256 (transposed path) on a larger image: two chunks of output rows x two
  // blocks of output channels (K = 272) x two kd blocks (Cg*9 = 648: the slab is filled a block of kd at a
  // time); a thread keeps its slab for the next block of channels of the same chunk.
  c(1, 72, 34, 34, 272, 3, 3, 1, 2, 1, 1),
  // Stride-2 slabs with rows of 8 (7x7 outputs), one chunk per image, filled from a permute table
  // (AVX-512): 32 per group at 14x14 (ResNeXt's 1024@14/s2 shape, scaled down), batch 2; odd input size
  // (13x13: the last window ends at the channel's end); 6 output rows (planes of 7 slab rows: 16-float
  // chunks straddle two planes).
  c(2, 64, 14, 14, 64, 3, 3, 2, 2, 1, 1),
  c(1, 32, 13, 13, 32, 3, 3, 1, 2, 1, 1),
  c(2, 64, 12, 14, 64, 3, 3, 2, 2, 1, 1),
  // The same table with one entry per slab row (rows of 9 to 16): 16 per group at 28x28 stride 2
  // (ResNeXt's 512@28/s2 shape, scaled down: rows of 15), batch 2; 21x22 input (11x11 output, rows of 12).
  c(2, 32, 28, 28, 32, 3, 3, 2, 2, 1, 1),
  c(2, 64, 21, 22, 64, 3, 3, 2, 2, 1, 1),
  // 1x1 at small images (channels in the lanes, runs of up to 14 consecutive pixels across rows, two
  // vectors of channels per call): 7x7 with K = 48 (a block ends in one vector) and three kd blocks (C = 520);
  // 15x15 (225 pixels: runs of 13 and 14) with K = 272 (several blocks of channels per image, so the next
  // task's weights are prefetched), batch 2; K = 40 (transposed only with AVX2's 8 lanes).
  c(1, 520, 7, 7, 48, 1, 1, 1, 1, 1, 0),
  c(2, 72, 15, 15, 272, 1, 1, 1, 1, 1, 0),
  c(1, 24, 7, 9, 40, 1, 1, 1, 1, 1, 0),
  // 14x14 at batch 1 (ResNet-50's 1024->256 at 14x14, scaled down) with three kd blocks (C = 520) and K = 80
  // (blocks of 32 channels on more than one thread, an odd last one): each thread's first pass over B
  // prefetches rows ahead into L2, past the last row of the input at the end of the last block.
  c(1, 520, 14, 14, 80, 1, 1, 1, 1, 1, 0),
  // The same from a slab: 1x1 stride 2 (gathered) to 7x7, batch 3; 1x1 with padding (every border pixel
  // reads zeros); 1x1 stride 2 pad 1 to 6x6; grouped 1x1 with 32 channels per group at 5x5.
  c(3, 40, 13, 13, 64, 1, 1, 1, 2, 1, 0),
  c(1, 36, 6, 5, 32, 1, 1, 1, 1, 1, 1),
  c(2, 20, 11, 11, 32, 1, 1, 1, 2, 1, 1),
  c(1, 64, 5, 5, 64, 1, 1, 2, 1, 1, 0),
];

describe.skipIf(!hasAddon)('cpu gemm kernels vs float64 reference', () => describeVariants('gemm', cases, 101));

describe.skipIf(!hasAddon)('cpu gemm kernel dispatch', () => {
  it(`picks gemm_${best} for a dense 3x3 stride 2 with C*K > 2^16 (w=[512,512,3,3] s=2; smaller ones are winograd_s2's) and a 1x1 (w=[128,64,1,1]); the stem (w=[64,3,7,7]) is stem_${best}'s`, () => {
    for (const [shape, opts] of [
      [[512, 512, 3, 3], { padding: 1, stride: 2 }],
      [[128, 64, 1, 1], {}],
    ] as const) {
      const plan = conv2dPlan(randn(shape as unknown as [number, number, number, number], { seed: 1 }), { ...opts, backend: 'cpu' });
      expect(plan.info().impl).toBe(`gemm_${best}`);
      plan.dispose();
    }
  });

  it(`picks gemm_${best} for ResNeXt-50 conv4 (w=[512,16,3,3] g=32) and conv5 (w=[1024,32,3,3] g=32) with algorithm 'direct', and for their stride-2 forms (on AVX-512 conv4's is grouped3x3s2_bcast_avx512's, conv5's grouped3x3s2_bcast32_avx512's)`, () => {
    for (const [shape, stride, algorithm] of [
      [[512, 16, 3, 3], 1, 'direct'],
      [[1024, 32, 3, 3], 1, 'direct'],
      [[512, 16, 3, 3], 2, 'auto'],
      [[1024, 32, 3, 3], 2, 'auto'],
    ] as const) {
      const plan = conv2dPlan(randn(shape as unknown as [number, number, number, number], { seed: 1 }), {
        groups: 32,
        padding: 1,
        stride,
        algorithm,
        backend: 'cpu',
      });
      const s2 = stride === 2 && best === 'avx512';
      const want = s2 ? (shape[1] === 16 ? 'grouped3x3s2_bcast_avx512' : 'grouped3x3s2_bcast32_avx512') : `gemm_${best}`;
      expect(plan.info().impl).toBe(want);
      plan.dispose();
    }
  });

  it('refuses a forced gemm kernel on 8 channels per group (w=[64,8,3,3] g=8) with the reason', () => {
    expect(() => conv2dPlan(randn([64, 8, 3, 3], { seed: 1 }), { groups: 8, backend: 'cpu', impl: 'gemm_scalar' })).toThrow(
      /gemm_scalar: grouped with fewer than 16 channels per group/,
    );
  });

  it("an ISA cap of avx2 picks gemm_avx2 for a dense 3x3 stride 2 with algorithm 'direct' (w=[32,32,3,3] s=2)", () => {
    if (ISA_RANK[best] < ISA_RANK.avx2) return;
    const plan = conv2dPlan(randn([32, 32, 3, 3], { seed: 1 }), {
      padding: 1,
      stride: 2,
      backend: 'cpu',
      isa: 'avx2',
      algorithm: 'direct',
    });
    expect(plan.info().impl).toBe('gemm_avx2');
    plan.dispose();
  });
});
