// The CPU kernels for grouped convolutions with few channels per group and
// for depthwise convolutions: grouped3x3s1_* (3x3, stride 1, pad 1, input read
// in place), grouped3x3s2_* (3x3, stride 2, pad 1, parity planes),
// depthwise3x3_* (3x3, stride 1, pad 1), grouped_* (the plane-copy kernel
// for every other shape with < 16 channels per group) and
// grouped3x3s2_rows_avx512 (3x3, stride 2, pad 1, 16 or more channels per
// group, output rows in the lanes; gemm_avx512 for outputs not 9-16 wide),
// grouped3x3s2_bcast_avx512 (the same with exactly 16 output channels per
// group, output channels in the lanes; the row kernel for outputs narrower
// than 7, 15 or 16, or wider than 224) and
// grouped3x3s2_small_avx512 (3x3, stride 2, pad 0 or 1, 25-32 output channels
// per group, output channels in the lanes; gemm_avx512 at batch 1 and for
// inputs wider than 16 or outputs past 64 pixels) and
// grouped3x3s2_bcast32_avx512 (exactly 32 output channels per group in two
// vectors, pixels broadcast in place; the small kernel for padding other than
// 1 and outputs not 7-14 wide). Every ISA variant of
// every family is forced by name on every shape below and compared with the
// float64 TS reference (normwise relative error <= 1e-4, see
// helpers/compare.ts); variants the CPU cannot run are skipped with the reason
// in the suite name. The shapes stress what these kernels special-case: widths
// that are not multiples of the vector width, 1x1 and 7x7 outputs, strides 2
// and 3, dilation 2, asymmetric padding, output channels per group different
// from input channels per group (and not a multiple of the register block),
// the fused epilogue (bias, residual, ReLU), and batches 1 and 5.
import { describe, expect, it } from 'vitest';

import { conv2dPlan, cpuInfo, randn } from '../lib';
import { best, type Case, checkThreadSplit, describeVariants, hasAddon, ISA_RANK } from './helpers/kernel_cases';

interface Family {
  name: string;
  cases: Case[];
}

const groupedCases: Case[] = [
  // ResNeXt-like, 4 and 8 channels per group, several row blocks.
  { n: 1, c: 128, h: 28, w: 28, k: 128, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 29, w: 29, k: 64, r: 3, s: 3, groups: 8, stride: 2, dilation: 1, padding: 1 },
  // Odd widths (not multiples of 8 or 16), batch 5, stride 2.
  { n: 5, c: 24, h: 13, w: 17, k: 24, r: 3, s: 3, groups: 3, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 16, h: 9, w: 33, k: 16, r: 3, s: 3, groups: 4, stride: 1, dilation: 1, padding: 1 },
  // 7x7 and 1x1 outputs.
  { n: 2, c: 128, h: 7, w: 7, k: 128, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 8, h: 1, w: 1, k: 8, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  // Padding 0 and asymmetric, dilation 2, 2 channels per group.
  { n: 1, c: 12, h: 10, w: 21, k: 12, r: 3, s: 3, groups: 6, stride: 1, dilation: 2, padding: [2, 1, 0, 3] },
  { n: 1, c: 32, h: 12, w: 19, k: 32, r: 3, s: 3, groups: 8, stride: 1, dilation: 1, padding: 0 },
  // Output channels per group != input channels per group, Kg not a multiple of 4.
  { n: 1, c: 8, h: 9, w: 5, k: 16, r: 3, s: 5, groups: 4, stride: [2, 1], dilation: [1, 2], padding: [1, 4] },
  { n: 5, c: 30, h: 8, w: 19, k: 45, r: 1, s: 1, groups: 3, stride: 2, dilation: 1, padding: 0 },
  { n: 1, c: 15, h: 11, w: 23, k: 5, r: 3, s: 3, groups: 5, stride: 1, dilation: 1, padding: 1 },
  // Large kernel with stride 2, stride 3.
  { n: 1, c: 12, h: 15, w: 15, k: 12, r: 7, s: 7, groups: 3, stride: 2, dilation: 1, padding: 3 },
  { n: 1, c: 6, h: 10, w: 10, k: 9, r: 3, s: 3, groups: 3, stride: 3, dilation: 1, padding: 0 },
  // Depthwise goes through this kernel too when forced.
  { n: 1, c: 16, h: 11, w: 17, k: 16, r: 3, s: 3, groups: 16, stride: 1, dilation: 1, padding: [1, 0, 2, 1] },
];

// 3x3, stride 1, padding 1 on every side: the in-place kernel. Widths below,
// at and above the vector widths (8, 16), 1-pixel and 7x7 planes, planes
// smaller than one vector, several chunks per plane, depthwise.
const g3Cases: Case[] = [
  { n: 1, c: 128, h: 28, w: 28, k: 128, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 32, h: 9, w: 17, k: 32, r: 3, s: 3, groups: 8, stride: 1, dilation: 1, padding: 1 },
  { n: 2, c: 128, h: 7, w: 7, k: 128, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 8, h: 1, w: 1, k: 8, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 12, h: 3, w: 5, k: 12, r: 3, s: 3, groups: 6, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 16, h: 40, w: 8, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 56, w: 56, k: 64, r: 3, s: 3, groups: 16, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 8, h: 11, w: 31, k: 24, r: 3, s: 3, groups: 4, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 15, h: 6, w: 33, k: 10, r: 3, s: 3, groups: 5, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 48, h: 13, w: 19, k: 48, r: 3, s: 3, groups: 48, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 4, h: 17, w: 16, k: 12, r: 3, s: 3, groups: 4, stride: 1, dilation: 1, padding: 1 },
  // Few groups and a large plane: several chunks (tasks) per plane.
  { n: 1, c: 8, h: 64, w: 40, k: 8, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
];

// Depthwise 3x3, stride 1, padding 1: rows of 1 to 5 vectors (each register
// block shape and the narrower ones for the rest of a row), rows shorter than
// a vector, single rows and columns, batch 5.
const dwCases: Case[] = [
  { n: 1, c: 16, h: 56, w: 56, k: 16, r: 3, s: 3, groups: 16, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 7, h: 9, w: 17, k: 7, r: 3, s: 3, groups: 7, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 5, h: 13, w: 40, k: 5, r: 3, s: 3, groups: 5, stride: 1, dilation: 1, padding: 1 },
  { n: 2, c: 3, h: 6, w: 65, k: 3, r: 3, s: 3, groups: 3, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 4, h: 1, w: 1, k: 4, r: 3, s: 3, groups: 4, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 6, h: 7, w: 7, k: 6, r: 3, s: 3, groups: 6, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 2, h: 33, w: 1, k: 2, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 2, h: 2, w: 16, k: 2, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 5, c: 9, h: 19, w: 33, k: 9, r: 3, s: 3, groups: 9, stride: 1, dilation: 1, padding: 1 },
];

// 3x3, stride 2, padding 1: even and odd heights and widths (the zero-filled
// right/bottom padding), planes of one pixel, several bands per image,
// Kg != Cg, depthwise.
const s2Cases: Case[] = [
  { n: 1, c: 128, h: 28, w: 28, k: 128, r: 3, s: 3, groups: 32, stride: 2, dilation: 1, padding: 1 },
  { n: 5, c: 32, h: 9, w: 17, k: 32, r: 3, s: 3, groups: 8, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 56, w: 56, k: 64, r: 3, s: 3, groups: 8, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 8, h: 1, w: 1, k: 8, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 12, h: 8, w: 3, k: 12, r: 3, s: 3, groups: 6, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 16, h: 15, w: 64, k: 16, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 8, h: 11, w: 31, k: 24, r: 3, s: 3, groups: 4, stride: 2, dilation: 1, padding: 1 },
  { n: 5, c: 15, h: 7, w: 33, k: 10, r: 3, s: 3, groups: 5, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 24, h: 14, w: 14, k: 24, r: 3, s: 3, groups: 24, stride: 2, dilation: 1, padding: 1 },
  // Few groups on a small image: chunks of whole vectors leave the last tasks
  // past the image's end (they must do nothing).
  { n: 1, c: 8, h: 24, w: 24, k: 8, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
];

// 3x3, stride 2, padding 1, 16-32 input and 16-24 output channels per group
// (AVX-512 only):
// outputs 9 to 16 wide (even and odd input widths, the full 16 lanes, the
// narrowest 9), a second panel of 8 and of 4 output channels (Kg 24, 20),
// Cg != Kg, batch 5, one row per task (few groups), a single output row with
// a one-channel second panel, and the widths it hands to gemm_avx512 (7 and
// 17 wide, 1x1).
const s2RowsCases: Case[] = [
  { n: 1, c: 64, h: 28, w: 28, k: 64, r: 3, s: 3, groups: 4, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 19, w: 27, k: 48, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 34, h: 5, w: 31, k: 40, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 5, c: 32, h: 32, w: 32, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 48, h: 3, w: 17, k: 48, r: 3, s: 3, groups: 3, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 14, w: 14, k: 48, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 32, h: 9, w: 33, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 32, h: 1, w: 1, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  // One output row, 9 wide; Kg 17: a second panel of one channel.
  { n: 3, c: 32, h: 2, w: 18, k: 34, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
];

// 3x3, stride 2, padding 1, 16-32 input and exactly 16 output channels per
// group (AVX-512 only): outputs 9 to 14 wide, each width once (even input
// widths, and odd ones whose last column's right tap is the padding), odd
// output heights (a last row pair of one row), one output row, Cg 16, 20 and
// 32, batches 1-3, few groups (several tasks per group); rows of 7 and 8 (one
// narrow block) and 17 to 29 (two or three column blocks, the last with the
// right padding on odd widths); and the widths it hands to
// grouped3x3s2_rows_avx512 (15 and 16 wide) and from there to gemm_avx512 (6
// wide, 1x1, 225 wide).
const s2BcastCases: Case[] = [
  { n: 1, c: 64, h: 28, w: 28, k: 64, r: 3, s: 3, groups: 4, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 27, w: 27, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 3, c: 40, h: 17, w: 17, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 5, w: 26, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 1, w: 19, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 48, h: 22, w: 24, k: 48, r: 3, s: 3, groups: 3, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 32, h: 2, w: 22, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 3, c: 96, h: 12, w: 21, k: 64, r: 3, s: 3, groups: 4, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 14, w: 14, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 40, h: 9, w: 15, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 9, w: 30, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 32, h: 6, w: 31, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 32, h: 5, w: 34, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 11, w: 56, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 32, h: 7, w: 57, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 12, w: 12, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 1, w: 1, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 32, h: 3, w: 449, k: 32, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
];

// 3x3, stride 2, exactly 32 output and 16-64 input channels per group
// (AVX-512 only): ResNeXt-50's 7x7 outputs at batches 1-3 (three two-row
// blocks and a one-row block; the first leaves out the top padding row), odd
// inputs (13x13: the right padding column left out), 8 to 14 wide outputs
// (one-row blocks), 16 and 64 input channels per group, one or two output
// rows, batch 5, and the sizes it hands to grouped3x3s2_small_avx512
// (padding 0, outputs 6, 15, 17 and 1 wide).
const s2Bcast32Cases: Case[] = [
  { n: 2, c: 64, h: 14, w: 14, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 14, w: 14, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 3, c: 64, h: 13, w: 13, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 9, w: 15, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 128, h: 11, w: 28, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 96, h: 16, w: 16, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 3, c: 96, h: 3, w: 13, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 1, w: 14, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 5, c: 72, h: 10, w: 21, k: 96, r: 3, s: 3, groups: 3, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 13, w: 13, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 0 },
  { n: 2, c: 64, h: 7, w: 12, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 5, w: 29, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 5, w: 33, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 1, w: 1, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
];

// 3x3, stride 2, padding 0 and 1, 16-64 input and 25-32 output channels per
// group (AVX-512 only): ResNeXt-50's 7x7 outputs, odd inputs (13x13, 15x9),
// a last block of 4 input channels (Cg 20) and a panel with idle lanes (Kg
// 25, 28), the largest tile (8x8 outputs) and the most plane rows (17: 16
// output rows), one output pixel, batch 5, and the sizes it hands to
// gemm_avx512 (batch 1, 17 wide, 85 output pixels).
const s2SmallCases: Case[] = [
  { n: 2, c: 64, h: 14, w: 14, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 3, c: 64, h: 13, w: 13, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 0 },
  { n: 2, c: 64, h: 13, w: 13, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 32, h: 15, w: 9, k: 56, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 5, c: 40, h: 15, w: 9, k: 50, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 0 },
  { n: 2, c: 96, h: 16, w: 16, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 31, w: 3, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 128, h: 3, w: 5, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 1, w: 1, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 64, h: 14, w: 14, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 17, w: 17, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 64, h: 34, w: 9, k: 64, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
];

// 3x3, stride 1 and 2, padding 1, exactly 8 output channels per group (every
// ISA; blocks of at most 14 columns with AVX-512, 12 with AVX2, 8 in C++):
// ResNeXt-50's 256@28 and 256@56/s2, outputs of one column block (1, 2, 7, 8,
// 9 wide), two or three (14 to 17, 29), a row of 33 to 57 blocks (450 wide), even and odd input widths
// at stride 2 (the last column's right tap is the padding when odd), odd
// output heights (a last row pair of one row), 1, 3, 4, 8 and 20 input
// channels per group, batches 1-3.
const bcast8Cases: Case[] = [
  { n: 1, c: 256, h: 28, w: 28, k: 256, r: 3, s: 3, groups: 32, stride: 1, dilation: 1, padding: 1 },
  { n: 2, c: 16, h: 9, w: 17, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 3, c: 8, h: 7, w: 7, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 2, h: 1, w: 1, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 40, h: 5, w: 29, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 2, c: 6, h: 4, w: 14, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 16, h: 3, w: 15, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 16, h: 2, w: 450, k: 16, r: 3, s: 3, groups: 2, stride: 1, dilation: 1, padding: 1 },
  { n: 1, c: 256, h: 56, w: 56, k: 256, r: 3, s: 3, groups: 32, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 16, h: 27, w: 27, k: 16, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 3, c: 24, h: 9, w: 17, k: 24, r: 3, s: 3, groups: 3, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 16, h: 1, w: 1, k: 16, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 2, c: 40, h: 6, w: 58, k: 16, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 8, h: 5, w: 31, k: 16, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 6, h: 3, w: 3, k: 16, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
  { n: 1, c: 16, h: 2, w: 899, k: 16, r: 3, s: 3, groups: 2, stride: 2, dilation: 1, padding: 1 },
];

const families: Family[] = [
  { name: 'grouped3x3s2', cases: s2Cases },
  { name: 'depthwise3x3', cases: dwCases },
  { name: 'grouped', cases: groupedCases },
  { name: 'grouped3x3s1', cases: g3Cases },
];

describe.skipIf(!hasAddon)('cpu grouped/depthwise kernels vs float64 reference', () => {
  for (const fam of families) describeVariants(fam.name, fam.cases, 11);
  describeVariants('grouped3x3s2_rows', s2RowsCases, 31, ['avx512']);
  describeVariants('grouped3x3s2_bcast', s2BcastCases, 51, ['avx512']);
  describeVariants('grouped3x3s2_small', s2SmallCases, 41, ['avx512']);
  describeVariants('grouped3x3s2_bcast32', s2Bcast32Cases, 61, ['avx512']);
  describeVariants('grouped3x3_bcast8', bcast8Cases, 71);
});

// The channels-in-lanes stride-2 kernels split an image's groups into runs of
// rows when there are fewer than 8 (image, group)s per thread, and each output
// is summed in the same order whatever the split. grouped3x3s2_bcast_avx512:
// 1, 2, 3 and 7 threads give 2, 4, 6 and 7 runs of the 7 row pairs of the
// first shape. grouped3x3s2_bcast32_avx512 (2 groups): 4, 7, 7 and 7 runs of
// the 7 two-row blocks of a 14 x 7 output, and 4, 8, 12 and 13 runs of the 13
// one-row blocks of a 13 x 8 one.
describe.skipIf(!hasAddon || best !== 'avx512')('grouped3x3s2 channels-in-lanes kernels thread split', () => {
  const shapes: [string, string, number[], number[], number][] = [
    ['grouped3x3s2_bcast_avx512', 'x=[1,64,28,28] w=[64,16,3,3] g=4 s=2 (one 14-wide block per row)', [1, 64, 28, 28], [64, 16, 3, 3], 4],
    [
      'grouped3x3s2_bcast_avx512',
      'x=[1,32,13,35] w=[32,16,3,3] g=2 s=2 (two column blocks, odd width)',
      [1, 32, 13, 35],
      [32, 16, 3, 3],
      2,
    ],
    ['grouped3x3s2_bcast32_avx512', 'x=[1,64,27,14] w=[64,32,3,3] g=2 s=2 (two-row blocks, 7 wide)', [1, 64, 27, 14], [64, 32, 3, 3], 2],
    [
      'grouped3x3s2_bcast32_avx512',
      'x=[1,64,25,15] w=[64,32,3,3] g=2 s=2 (one-row blocks, 8 wide, odd width)',
      [1, 64, 25, 15],
      [64, 32, 3, 3],
      2,
    ],
  ];
  for (const [impl, name, xs, ws, groups] of shapes) {
    it(`${impl} ${name}: bias, residual, ReLU; threads 1, 2, 3, 7 bit-identical and <= 1e-4 of the reference`, () =>
      checkThreadSplit(impl, xs, ws, groups, 2));
  }
});

// grouped3x3_bcast8_* split each (image, group) into runs of blocks of rows
// (pairs with AVX-512, single rows otherwise) when there are fewer than 8 per
// thread: 28 output rows are 14 pairs in 4, 8, 12 and 14 runs, or 28 rows in
// 8, 16, 24 and 28.
describe.skipIf(!hasAddon)('grouped3x3_bcast8 thread split', () => {
  for (const isa of ['avx512', 'avx2', 'scalar'] as const) {
    for (const stride of [1, 2]) {
      const xs = stride === 1 ? [1, 16, 28, 29] : [1, 16, 56, 57];
      it.skipIf(ISA_RANK[isa] > ISA_RANK[best])(
        `grouped3x3_bcast8_${isa} x=[${xs}] w=[16,8,3,3] g=2 s=${stride}: bias, residual, ReLU; threads 1, 2, 3, 7 bit-identical and <= 1e-4 of the reference`,
        () => checkThreadSplit(`grouped3x3_bcast8_${isa}`, xs, [16, 8, 3, 3], 2, stride),
      );
    }
  }
});

describe.skipIf(!hasAddon)('cpu grouped/depthwise kernel dispatch', () => {
  it('picks the in-place 3x3 kernel for ResNeXt-50 conv2 (w=[128,4,3,3] g=32 s=1 p=1) at the best ISA', () => {
    const plan = conv2dPlan(randn([128, 4, 3, 3], { seed: 1 }), { groups: 32, padding: 1, backend: 'cpu' });
    expect(plan.info().impl).toBe(`grouped3x3s1_${best}`);
    plan.dispose();
  });

  it('picks the depthwise kernel for the L1 layer depthwise (w=[128,1,3,3] g=128 s=1 p=1) at the best ISA', () => {
    const plan = conv2dPlan(randn([128, 1, 3, 3], { seed: 1 }), { groups: 128, padding: 1, backend: 'cpu' });
    expect(plan.info().impl).toBe(`depthwise3x3_${best}`);
    plan.dispose();
  });

  it('explains why the depthwise kernel skips a channel multiplier of 2 (w=[32,1,3,3] g=16)', () => {
    const plan = conv2dPlan(randn([32, 1, 3, 3], { seed: 1 }), { groups: 16, padding: 1, backend: 'cpu' });
    expect(plan.info().fallbacks as string[]).toContain(
      `depthwise3x3_${best}: needs groups = input channels = output channels (depthwise, multiplier 1)`,
    );
    expect(plan.info().impl).toBe(`grouped3x3s1_${best}`);
    plan.dispose();
  });

  it('picks the stride-2 kernel for a stride-2 conv with 4 channels per group (w=[128,4,3,3] g=32 s=2 p=1) and says why not the stride-1 one', () => {
    const plan = conv2dPlan(randn([128, 4, 3, 3], { seed: 1 }), { groups: 32, stride: 2, padding: 1, backend: 'cpu' });
    expect(plan.info().impl).toBe(`grouped3x3s2_${best}`);
    expect(plan.info().fallbacks as string[]).toContain(`grouped3x3s1_${best}: needs stride 1`);
    if (best === 'avx512') {
      expect(plan.info().fallbacks as string[]).toContain(
        'grouped3x3_bcast8_avx512: needs exactly 8 output channels per group (one 256-bit vector of them)',
      );
    }
    plan.dispose();
  });

  // 8 channels per group (ResNeXt-50's 256@28 and 256@56/s2): with AVX-512,
  // the channels-in-lanes kernel exactly where 512-bit FMAs are double-pumped
  // (AMD Zen 4), else the 16-pixel kernels, saying why; with AVX2 and in C++,
  // the channels-in-lanes kernel at stride 2 only, saying why not at stride 1.
  for (const stride of [1, 2]) {
    it(`runs 8 channels per group (w=[256,8,3,3] g=32 s=${stride} p=1) on grouped3x3_bcast8 where it is faster, and says why elsewhere`, () => {
      const doublePumped = cpuInfo()?.features.avx512DoublePumped === true;
      const plan = conv2dPlan(randn([256, 8, 3, 3], { seed: 1 }), { groups: 32, stride, padding: 1, backend: 'cpu' });
      const fallbacks = plan.info().fallbacks as string[];
      if (best === 'avx512') {
        if (doublePumped) {
          expect(plan.info().impl).toBe('grouped3x3_bcast8_avx512');
        } else {
          expect(plan.info().impl).toBe(`grouped3x3s${stride}_avx512`);
          expect(fallbacks).toContain(
            "grouped3x3_bcast8_avx512: 512-bit FMAs run at full width on this CPU, where grouped3x3s1/s2_avx512's 16-pixel vectors do twice the work per FMA",
          );
        }
      } else if (stride === 2) {
        expect(plan.info().impl).toBe(`grouped3x3_bcast8_${best}`);
      } else {
        expect(plan.info().impl).toBe(`grouped3x3s1_${best}`);
        expect(fallbacks).toContain(`grouped3x3_bcast8_${best}: at stride 1 grouped3x3s1_* (output pixels in the lanes) is faster`);
      }
      plan.dispose();
    });
  }

  it('runs the AVX2 and C++ channels-in-lanes kernels at stride 2 and not at stride 1 under an ISA cap (w=[256,8,3,3] g=32)', () => {
    for (const isa of ['avx2', 'scalar'] as const) {
      if (ISA_RANK[isa] > ISA_RANK[best]) continue;
      for (const stride of [1, 2]) {
        const plan = conv2dPlan(randn([256, 8, 3, 3], { seed: 1 }), { groups: 32, stride, padding: 1, backend: 'cpu', isa });
        expect(plan.info().impl).toBe(stride === 2 ? `grouped3x3_bcast8_${isa}` : `grouped3x3s1_${isa}`);
        plan.dispose();
      }
    }
  });

  it.skipIf(best !== 'avx512')('refuses a forced 256-bit kernel on 16 output channels per group and on stride 3, with the reason', () => {
    expect(() =>
      conv2dPlan(randn([32, 8, 3, 3], { seed: 1 }), { groups: 2, stride: 2, padding: 1, backend: 'cpu', impl: 'grouped3x3_bcast8_avx512' }),
    ).toThrow(/grouped3x3_bcast8_avx512: needs exactly 8 output channels per group/);
    expect(() =>
      conv2dPlan(randn([16, 8, 3, 3], { seed: 1 }), { groups: 2, stride: 3, padding: 1, backend: 'cpu', impl: 'grouped3x3_bcast8_avx512' }),
    ).toThrow(/grouped3x3_bcast8_avx512: needs stride 1 or 2/);
  });

  it.skipIf(best !== 'avx512')(
    'picks the channels-in-lanes kernel for ResNeXt-50 stage 4 conv2 stride 2 (w=[512,16,3,3] g=32 s=2 p=1) and says when it runs the row kernel',
    () => {
      const plan = conv2dPlan(randn([512, 16, 3, 3], { seed: 1 }), { groups: 32, stride: 2, padding: 1, backend: 'cpu' });
      expect(plan.info().impl).toBe('grouped3x3s2_bcast_avx512');
      expect(plan.info().perRun).toMatch(/7 to 224 wide but not 15 or 16; other widths run grouped3x3s2_rows_avx512/);
      plan.dispose();
    },
  );

  it.skipIf(best !== 'avx512')(
    'picks the row kernel for 24 output channels per group (w=[48,16,3,3] g=2 s=2 p=1) with the reason the channels-in-lanes kernel skips it',
    () => {
      const plan = conv2dPlan(randn([48, 16, 3, 3], { seed: 1 }), { groups: 2, stride: 2, padding: 1, backend: 'cpu' });
      expect(plan.info().impl).toBe('grouped3x3s2_rows_avx512');
      expect(plan.info().perRun).toMatch(/9 to 16 wide; other widths run gemm_avx512/);
      expect(plan.info().fallbacks as string[]).toContain(
        'grouped3x3s2_bcast_avx512: needs exactly 16 output channels per group (one vector of them)',
      );
      plan.dispose();
    },
  );

  it.skipIf(best !== 'avx512')(
    'refuses a forced channels-in-lanes kernel on 8 input channels per group and on stride 1, with the reason',
    () => {
      expect(() =>
        conv2dPlan(randn([32, 8, 3, 3], { seed: 1 }), {
          groups: 2,
          stride: 2,
          padding: 1,
          backend: 'cpu',
          impl: 'grouped3x3s2_bcast_avx512',
        }),
      ).toThrow(/grouped3x3s2_bcast_avx512: needs 16 or more channels per group/);
      expect(() =>
        conv2dPlan(randn([32, 16, 3, 3], { seed: 1 }), { groups: 2, padding: 1, backend: 'cpu', impl: 'grouped3x3s2_bcast_avx512' }),
      ).toThrow(/grouped3x3s2_bcast_avx512: needs stride 2/);
    },
  );

  it.skipIf(best !== 'avx512')(
    'picks the two-vector channels-in-lanes kernel for ResNeXt-50 stage 5 conv2 stride 2 (w=[1024,32,3,3] g=32 s=2 p=1) and says when it runs the small-output kernel',
    () => {
      const plan = conv2dPlan(randn([1024, 32, 3, 3], { seed: 1 }), { groups: 32, stride: 2, padding: 1, backend: 'cpu' });
      expect(plan.info().impl).toBe('grouped3x3s2_bcast32_avx512');
      expect(plan.info().perRun).toMatch(/padding is 1 and the output is 7 to 14 wide; other sizes run grouped3x3s2_small_avx512/);
      plan.dispose();
    },
  );

  it.skipIf(best !== 'avx512')(
    'picks the small-output kernel for 28 output channels per group (w=[56,32,3,3] g=2 s=2 p=1), with the reasons the two-vector and row kernels skip it, and says when it runs gemm',
    () => {
      const plan = conv2dPlan(randn([56, 32, 3, 3], { seed: 1 }), { groups: 2, stride: 2, padding: 1, backend: 'cpu' });
      expect(plan.info().impl).toBe('grouped3x3s2_small_avx512');
      expect(plan.info().perRun).toMatch(/batches of 2 or more .*; batch 1 and other sizes run gemm_avx512/);
      expect(plan.info().fallbacks as string[]).toContain(
        'grouped3x3s2_bcast32_avx512: needs exactly 32 output channels per group (two vectors of them)',
      );
      expect(plan.info().fallbacks as string[]).toContain(
        'grouped3x3s2_rows_avx512: more than 24 output or 32 input channels per group (gemm_avx512 is as fast from 32 output channels on)',
      );
      plan.dispose();
    },
  );

  it.skipIf(best !== 'avx512')('refuses a forced two-vector kernel on 8 input channels per group and on stride 1, with the reason', () => {
    expect(() =>
      conv2dPlan(randn([64, 8, 3, 3], { seed: 1 }), {
        groups: 2,
        stride: 2,
        padding: 1,
        backend: 'cpu',
        impl: 'grouped3x3s2_bcast32_avx512',
      }),
    ).toThrow(/grouped3x3s2_bcast32_avx512: needs 16 to 64 input channels per group/);
    expect(() =>
      conv2dPlan(randn([64, 32, 3, 3], { seed: 1 }), { groups: 2, padding: 1, backend: 'cpu', impl: 'grouped3x3s2_bcast32_avx512' }),
    ).toThrow(/grouped3x3s2_bcast32_avx512: needs stride 2/);
  });

  it.skipIf(best !== 'avx512')('leaves 64 output channels per group to gemm with the reason (w=[2048,64,3,3] g=32 s=2)', () => {
    const plan = conv2dPlan(randn([2048, 64, 3, 3], { seed: 1 }), { groups: 32, stride: 2, padding: 1, backend: 'cpu' });
    expect(plan.info().impl).toBe('gemm_avx512');
    expect(plan.info().fallbacks as string[]).toContain('grouped3x3s2_small_avx512: needs 25 to 32 output channels per group');
    plan.dispose();
  });

  it.skipIf(best !== 'avx512')(
    'refuses a forced small-output kernel on stride 1 and on 16 output channels per group, with the reason',
    () => {
      const w = randn([64, 32, 3, 3], { seed: 1 });
      expect(() => conv2dPlan(w, { groups: 2, padding: 1, backend: 'cpu', impl: 'grouped3x3s2_small_avx512' })).toThrow(
        /grouped3x3s2_small_avx512: needs stride 2/,
      );
      const w16 = randn([32, 32, 3, 3], { seed: 1 });
      expect(() => conv2dPlan(w16, { groups: 2, stride: 2, padding: 1, backend: 'cpu', impl: 'grouped3x3s2_small_avx512' })).toThrow(
        /grouped3x3s2_small_avx512: needs 25 to 32 output channels per group/,
      );
    },
  );

  it.skipIf(best !== 'avx512')('leaves 8 channels per group to grouped3x3s2 with the reason (w=[256,8,3,3] g=32 s=2)', () => {
    const plan = conv2dPlan(randn([256, 8, 3, 3], { seed: 1 }), { groups: 32, stride: 2, padding: 1, backend: 'cpu' });
    expect(plan.info().fallbacks as string[]).toContain(
      'grouped3x3s2_rows_avx512: needs 16 or more channels per group (grouped3x3s2_* takes fewer)',
    );
    plan.dispose();
  });

  it('falls back to the plane-copy kernel for a 3x3 stride-2 conv without padding (w=[64,4,3,3] g=16 s=2 p=0)', () => {
    const plan = conv2dPlan(randn([64, 4, 3, 3], { seed: 1 }), { groups: 16, stride: 2, padding: 0, backend: 'cpu' });
    expect(plan.info().impl).toBe(`grouped_${best}`);
    expect(plan.info().fallbacks as string[]).toContain(`grouped3x3s2_${best}: needs padding 1 on every side`);
    plan.dispose();
  });

  it("explains why the grouped kernel skips 16 channels per group (w=[64,16,3,3] g=4 s=2 p=0; p=1 is grouped3x3s2_rows_avx512's)", () => {
    const plan = conv2dPlan(randn([64, 16, 3, 3], { seed: 1 }), { groups: 4, padding: 0, stride: 2, backend: 'cpu' });
    const fallbacks = plan.info().fallbacks as string[];
    expect(fallbacks.some((f) => /^grouped_\w+: needs fewer than 16 input channels per group/.test(f))).toBe(true);
    expect(plan.info().impl).not.toMatch(/^grouped_/);
    plan.dispose();
  });

  it('refuses a forced grouped kernel on a dense convolution (w=[8,8,3,3] g=1) with the reason', () => {
    expect(() => conv2dPlan(randn([8, 8, 3, 3], { seed: 1 }), { backend: 'cpu', impl: 'grouped_scalar' })).toThrow(
      /grouped_scalar: needs groups > 1/,
    );
  });
});
