// The blocked-layout CPU kernels (native/cpu/conv_blocked*.cc: NCHW16c with
// AVX-512, NCHW8c with AVX2 and scalar): 1x1 convolutions of any stride and
// grouped 3x3 ones with channels per group dividing the block. Each variant is
// forced by name (its registry row runs it on NCHW tensors through the
// NCHW <-> blocked conversions, so those are checked too) and compared with
// the float64 TS reference (normwise relative error <= 1e-4). The shapes
// stress the tails: channel counts not a multiple of 8 or 16 (the last block
// part padding), pixel counts not a multiple of the micro-tile, odd H and W,
// more than one slice of input channels (C > 256), an odd number of output
// blocks (a single-block micro-tile), stride 2, 1x1 images, batches > 1,
// groups smaller than a block (lane permutes) and of whole blocks (broadcasts),
// dense 3x3s with more than one output block per micro-tile and a last group
// of one block, stride 2 on odd sizes, and rows shorter than a micro-tile.
import { describe, expect, it } from 'vitest';

import { conv2dPlan, randn } from '../lib';
import { best, type Case, caseName, checkKernel, epilogues, hasAddon, ISA_RANK, type Isa } from './helpers/kernel_cases';

const c = (n: number, ch: number, h: number, w: number, k: number, kernel: number, groups: number, stride: number): Case => ({
  n,
  c: ch,
  h,
  w,
  k,
  r: kernel,
  s: kernel,
  groups,
  stride,
  dilation: 1,
  padding: kernel === 3 ? 1 : 0,
});

const oneByOne: Case[] = [
  c(2, 19, 5, 7, 37, 1, 1, 1), // odd C and K, 35 pixels (2 full tiles + tail), batch 2
  c(1, 33, 9, 11, 17, 1, 1, 2), // stride 2 on odd H/W (5x6 output)
  c(3, 64, 14, 14, 48, 1, 1, 1), // 3 output blocks (an odd one left), batch 3
  c(1, 300, 7, 7, 24, 1, 1, 1), // two slices of input channels (300 > 256), 7x7
  c(1, 40, 15, 14, 72, 1, 1, 2), // stride 2 with row tails
  c(2, 5, 1, 1, 3, 1, 1, 1), // 1x1 image, fewer channels than a block
];

const grouped3x3: Case[] = [
  c(2, 20, 5, 7, 20, 3, 5, 1), // 4 per group, C = 20: a partial last block
  c(1, 36, 9, 11, 36, 3, 9, 2), // 4 per group, stride 2, odd H/W
  c(3, 24, 14, 13, 24, 3, 3, 1), // 8 per group, batch 3
  c(2, 30, 6, 5, 30, 3, 15, 2), // 2 per group, stride 2
  c(1, 12, 9, 9, 12, 3, 12, 1), // depthwise
  c(1, 6, 1, 1, 6, 3, 6, 1), // 1x1 image: every tap but the centre is padding
  c(2, 64, 7, 9, 64, 3, 2, 1), // 32 per group: groups of whole blocks (broadcast path), batch 2
  c(1, 96, 9, 8, 96, 3, 6, 2), // 16 per group, stride 2: one block per group (AVX-512), two (AVX2, scalar)
];

const dense3x3: Case[] = [
  c(2, 20, 9, 7, 36, 3, 1, 1), // C = 20 -> K = 36: partial first and last blocks, odd 9x7, batch 2
  c(1, 36, 13, 13, 20, 3, 1, 2), // stride 2 on 13x13 (7x7 output), partial blocks
  c(2, 20, 9, 7, 36, 3, 1, 2), // stride 2 on 9x7, batch 2
  c(1, 64, 16, 15, 80, 3, 1, 1), // 5 output blocks (AVX-512: a last group of one), 15 wide: full tiles and a tail
  c(1, 48, 30, 29, 32, 3, 1, 2), // stride 2, 15 output columns (a full 14-pixel tile plus one), 3 input blocks
  c(1, 3, 1, 1, 5, 3, 1, 1), // 1x1 image: every tap but the centre is padding
  c(1, 17, 2, 2, 9, 3, 1, 2), // stride 2 on 2x2: one output pixel reading the corner taps
];

const winograd3x3: Case[] = [
  c(2, 20, 9, 7, 36, 3, 1, 1), // C = 20 -> K = 36, odd 9x7: a half tile at the bottom and the right, batch 2
  c(1, 64, 16, 30, 80, 3, 1, 1), // 5 output blocks (AVX-512: a last group of one), 15 tiles per row: 2 full micro-tiles + 1
  c(1, 48, 14, 14, 32, 3, 1, 1), // 7 tiles per row, even sizes
  c(1, 3, 1, 1, 5, 3, 1, 1), // 1x1 image: one tile, three quarters of it outside the output
  c(2, 17, 2, 3, 9, 3, 1, 1), // 2x3 image, odd C
  c(1, 40, 29, 13, 24, 3, 1, 1), // 15 rows of tiles with a last half row, 7 tiles per row with a half tile
];

// F(4x4): tiles of 4x4 outputs from 6x6 input patches; partial tiles at every edge.
const winograd43: Case[] = [
  c(2, 20, 9, 7, 36, 3, 1, 1), // C = 20 -> K = 36, odd 9x7: 3 x 2 tiles, the last row of tiles one output high, batch 2
  c(1, 64, 16, 30, 80, 3, 1, 1), // 5 output blocks (AVX-512: a last group of one), 8 tiles per row: a full micro-tile + 1
  c(1, 48, 14, 14, 32, 3, 1, 1), // ResNet's 56 and 28 scaled: 4 x 4 tiles, the last ones half outside
  c(1, 3, 1, 1, 5, 3, 1, 1), // 1x1 image: one tile, 15 of its 16 outputs outside
  c(2, 17, 5, 6, 9, 3, 1, 1), // 5x6 image, odd C: 2 x 2 tiles, one output row and two columns in the last ones
  c(1, 40, 29, 13, 24, 3, 1, 1), // 8 rows of tiles with a last one of one row, 4 tiles per row with one of one column
  // Batch 3 and more read the packed transformed weights; batches 1 and 2 (the cases above) transform the raw taps
  // per run, a group of output blocks at a time.
  c(3, 20, 9, 7, 36, 3, 1, 1), // the first case at batch 3
  c(3, 64, 16, 30, 80, 3, 1, 1), // 5 output blocks at batch 3
];

const variants: [string, Isa][] = [
  ['conv1x1_nchw16c_avx512', 'avx512'],
  ['conv1x1_nchw8c_avx2', 'avx2'],
  ['conv1x1_nchw8c_scalar', 'scalar'],
  ['grouped3x3_nchw16c_avx512', 'avx512'],
  ['grouped3x3_nchw8c_avx2', 'avx2'],
  ['grouped3x3_nchw8c_scalar', 'scalar'],
  ['conv3x3_nchw16c_avx512', 'avx512'],
  ['conv3x3_nchw8c_avx2', 'avx2'],
  ['conv3x3_nchw8c_scalar', 'scalar'],
  ['winograd3x3_nchw16c_avx512', 'avx512'],
  ['winograd3x3_nchw8c_avx2', 'avx2'],
  ['winograd3x3_nchw8c_scalar', 'scalar'],
  ['winograd43_nchw16c_avx512', 'avx512'],
  ['winograd43_nchw8c_avx2', 'avx2'],
  ['winograd43_nchw8c_scalar', 'scalar'],
];
const casesOf = (impl: string): Case[] =>
  impl.startsWith('conv1x1')
    ? oneByOne
    : impl.startsWith('conv3x3')
      ? dense3x3
      : impl.startsWith('winograd3x3')
        ? winograd3x3
        : impl.startsWith('winograd43')
          ? winograd43
          : grouped3x3;

describe.skipIf(!hasAddon)('cpu blocked-layout kernels vs float64 reference', () => {
  variants.forEach(([impl, isa], v) => {
    const cases = casesOf(impl);
    describe.skipIf(ISA_RANK[isa] > ISA_RANK[best])(`${impl} (needs ${isa}; this CPU: ${best})`, () => {
      cases.forEach((t, i) => {
        const eps = i === 0 ? epilogues : [epilogues[i % epilogues.length]];
        for (const e of eps) {
          it(`${caseName(t)} bias=${e.bias} residual=${e.residual} relu=${e.relu}`, () => checkKernel(t, impl, isa, e, 301 + 17 * v + i));
        }
      });
    });
  });
});

describe.skipIf(!hasAddon)('cpu blocked-layout kernels: ReLU and dispatch', () => {
  for (const [impl, isa] of variants) {
    it.skipIf(ISA_RANK[isa] > ISA_RANK[best])(`${impl}: ReLU passes a NaN input through (x < 0 ? 0 : x, not max(x, 0))`, () => {
      const is1x1 = impl.startsWith('conv1x1');
      const dense = is1x1 || impl.startsWith('conv3x3') || impl.startsWith('winograd');
      const [C, G, k] = is1x1 ? [20, 1, 1] : dense ? [20, 1, 3] : [20, 5, 3];
      const x = randn([1, C, 5, 5], { seed: 7 });
      x.dataSync()[2 * 5 + 2] = NaN; // channel 0, pixel (2, 2)
      const w = randn([C, C / G, k, k], { seed: 8 });
      const plan = conv2dPlan(w, { groups: G, padding: (k - 1) / 2, activation: 'relu', backend: 'cpu', impl, isa });
      try {
        const y = plan.run(x).dataSync();
        // Output channels reading channel 0 (all of them for groups 1, group 0 for the grouped 3x3) at pixel (2, 2).
        const reading = dense ? C : C / G;
        for (let ch = 0; ch < reading; ch++) expect(y[ch * 25 + 12]).toBeNaN();
        // Channels of other groups do not read it.
        if (!dense) expect(Number.isNaN(y[(C - 1) * 25 + 12])).toBe(false);
        // Nor does a 3x3's pixel (0, 0), two rows and columns away; with F(4x4) Winograd it shares the NaN's tile
        // (outputs 0-3 x 0-3, whose transforms mix the whole 6x6 patch: docs/safety.md), so check pixel (4, 4),
        // in the next tile, instead.
        const far = impl.startsWith('winograd43') ? 4 * 5 + 4 : 0;
        if (k === 3)
          expect(
            y
              .subarray(0, C * 25)
              .filter((_, i) => i % 25 === far)
              .some(Number.isNaN),
          ).toBe(false);
      } finally {
        plan.dispose();
      }
    });
  }

  it('the blocked kernels are never chosen unforced: a 1x1 (w=[64,48,1,1]), a grouped 3x3 (w=[128,4,3,3] g=32) and a dense 3x3 (w=[64,64,3,3]) pick NCHW kernels', () => {
    const a = conv2dPlan(randn([64, 48, 1, 1], { seed: 1 }), { backend: 'cpu' });
    const b = conv2dPlan(randn([128, 4, 3, 3], { seed: 1 }), { groups: 32, padding: 1, backend: 'cpu' });
    const d = conv2dPlan(randn([64, 64, 3, 3], { seed: 1 }), { padding: 1, backend: 'cpu' });
    try {
      expect(String(a.info().impl)).not.toMatch(/nchw(16|8)c/);
      expect(String(b.info().impl)).not.toMatch(/nchw(16|8)c/);
      expect(String(d.info().impl)).not.toMatch(/nchw(16|8)c/);
    } finally {
      a.dispose();
      b.dispose();
      d.dispose();
    }
  });

  it('refuses a forced blocked kernel on shapes it cannot run, with the reason', () => {
    expect(() => conv2dPlan(randn([16, 16, 3, 3], { seed: 1 }), { padding: 1, backend: 'cpu', impl: 'conv1x1_nchw8c_scalar' })).toThrow(
      /conv1x1_nchw8c_scalar: needs a 1x1 kernel/,
    );
    expect(() => conv2dPlan(randn([16, 16, 1, 1], { seed: 1 }), { padding: 1, backend: 'cpu', impl: 'conv1x1_nchw8c_scalar' })).toThrow(
      /needs padding 0/,
    );
    // 3 channels per group neither divides a block of 8 nor is a multiple of it.
    expect(() =>
      conv2dPlan(randn([24, 3, 3, 3], { seed: 1 }), { groups: 8, padding: 1, backend: 'cpu', impl: 'grouped3x3_nchw8c_scalar' }),
    ).toThrow(/grouped3x3_nchw8c_scalar: needs channels per group dividing the block or a multiple of it/);
    expect(() =>
      conv2dPlan(randn([16, 4, 3, 3], { seed: 1 }), { groups: 4, padding: 1, stride: 3, backend: 'cpu', impl: 'grouped3x3_nchw8c_scalar' }),
    ).toThrow(/needs stride 1 or 2/);
    expect(() =>
      conv2dPlan(randn([16, 8, 3, 3], { seed: 1 }), { groups: 2, padding: 1, backend: 'cpu', impl: 'conv3x3_nchw8c_scalar' }),
    ).toThrow(/conv3x3_nchw8c_scalar: needs groups 1/);
    expect(() => conv2dPlan(randn([16, 16, 3, 3], { seed: 1 }), { padding: 0, backend: 'cpu', impl: 'conv3x3_nchw8c_scalar' })).toThrow(
      /needs padding 1/,
    );
    expect(() =>
      conv2dPlan(randn([16, 16, 3, 3], { seed: 1 }), { padding: 1, stride: 3, backend: 'cpu', impl: 'conv3x3_nchw8c_scalar' }),
    ).toThrow(/needs stride 1 or 2/);
    expect(() =>
      conv2dPlan(randn([16, 16, 3, 3], { seed: 1 }), { padding: 1, stride: 2, backend: 'cpu', impl: 'winograd3x3_nchw8c_scalar' }),
    ).toThrow(/winograd3x3_nchw8c_scalar: needs stride 1/);
    expect(() =>
      conv2dPlan(randn([512, 512, 3, 3], { seed: 1 }), { padding: 1, backend: 'cpu', impl: 'winograd3x3_nchw8c_scalar' }),
    ).toThrow(/C\*K >= 2\^18/);
    expect(() =>
      conv2dPlan(randn([256, 256, 3, 3], { seed: 1 }), { padding: 1, backend: 'cpu', impl: 'winograd43_nchw8c_scalar' }),
    ).toThrow(/winograd43_nchw8c_scalar: C\*K >= 2\^16/);
    expect(() =>
      conv2dPlan(randn([16, 16, 3, 3], { seed: 1 }), { padding: 1, stride: 2, backend: 'cpu', impl: 'winograd43_nchw8c_scalar' }),
    ).toThrow(/winograd43_nchw8c_scalar: needs stride 1/);
  });
});
