// The Winograd F(2x2, 3x3) CPU kernels (native/cpu/conv_winograd_*.cc): dense
// 3x3 stride-1 convolutions with 16 or more output channels and C*K < 2^20.
// Every ISA variant is forced by name on every shape below and compared with
// the float64 TS reference (normwise relative error <= 1e-4, see
// helpers/compare.ts); variants the CPU cannot run are skipped with the reason.
// The shapes stress what the kernel special-cases: C and K not multiples of the
// register block (17, 33) or of a vector, odd H and W (partial edge tiles: the
// last output row and column of a tile dropped), outputs one wide and one high,
// pad 0, pad 2 and asymmetric padding, batch 5 (tile chunks spanning images),
// short tile rows that share a vector (7x7 and 14x14 outputs) and rows longer
// than 15 tiles (the AVX-512 long-row split), more than one block of input
// channels (C > 128), more than one block of output channels (K > 256), and the
// fused epilogue (bias, residual, ReLU).
import { describe, expect, it } from 'vitest';

import { conv2dPlan, randn } from '../lib';
import { best, type Case, describeVariants, hasAddon, ISA_RANK, dense3x3Case } from './helpers/kernel_cases';

const c = dense3x3Case(1);

const cases: Case[] = [
  // Odd C and K, odd H and W (partial edge tiles).
  c(1, 17, 9, 11, 33, 1),
  // Batch 5, K = 24 (one and a half AVX-512 panels of 16), even H, odd W.
  c(5, 16, 12, 11, 24, 1),
  // Output one wide (W = 3, pad 0) and one high (H = 3, pad 0).
  c(1, 20, 6, 3, 17, 0),
  c(2, 20, 3, 7, 16, 0),
  // Pad 0 on an odd image; pad 2.
  c(1, 32, 11, 10, 40, 0),
  c(1, 19, 5, 6, 16, 2),
  // Asymmetric padding [top, left, bottom, right] = [2, 1, 0, 3].
  c(2, 34, 9, 8, 48, [2, 1, 0, 3]),
  // 7x7 outputs at batch 3: 16 tiles per image, chunks spanning images.
  c(3, 64, 7, 7, 32, 1),
  // 14x14 outputs at batch 2: 49 tiles per image, a vector spans three tile rows.
  c(2, 32, 14, 14, 48, 1),
  // Rows of 20 tiles (40 wide), more than 15: the AVX-512 long-row split.
  c(1, 16, 6, 40, 16, 1),
  // Three blocks of input channels (C = 300 > 128), K = 20, small image.
  c(1, 300, 5, 7, 20, 1),
  // Two blocks of output channels (K = 272 > 256), 7x7, batch 2.
  c(2, 24, 7, 7, 272, 1),
];

describe.skipIf(!hasAddon)('cpu winograd kernels vs float64 reference', () => describeVariants('winograd', cases, 301));

describe.skipIf(!hasAddon)('cpu winograd kernel dispatch', () => {
  const plan = (shape: [number, number, number, number], opts: Record<string, unknown>) =>
    conv2dPlan(randn(shape, { seed: 1 }), { ...opts, backend: 'cpu' });

  it(`picks winograd_${best} for dense 3x3 stride 1 (w=[64,64,3,3] p=1 below AVX-512, w=[288,288,3,3] p=0)`, () => {
    for (const [shape, padding] of [
      [[64, 64, 3, 3], 1],
      [[288, 288, 3, 3], 0],
    ] as const) {
      const p = plan([...shape] as [number, number, number, number], { padding });
      // With AVX-512, dense convs of 14-256 channels go to the grouped F(4x4) kernel (cpu_winograd_grouped_kernels).
      expect(p.info().impl).toBe(best === 'avx512' && shape[0] <= 256 ? 'winograd_grouped_avx512' : `winograd_${best}`);
      p.dispose();
    }
  });

  it('leaves grouped convs to the grouped kernels: ResNeXt conv4 (w=[512,16,3,3] g=32) to winograd_grouped_avx512 (gemm without AVX-512), conv2 (w=[128,4,3,3] g=32) to grouped3x3s1', () => {
    const conv4 = plan([512, 16, 3, 3], { groups: 32, padding: 1 });
    expect(conv4.info().impl).toBe(best === 'avx512' ? 'winograd_grouped_avx512' : `gemm_${best}`);
    if (best !== 'avx512') {
      expect(conv4.info().fallbacks).toContain(
        `winograd_${best}: grouped (measured slower than gemm at 16-32 channels per group: transforms dominate)`,
      );
    }
    conv4.dispose();
    const conv2 = plan([128, 4, 3, 3], { groups: 32, padding: 1 });
    expect(conv2.info().impl).toBe(`grouped3x3s1_${best}`);
    conv2.dispose();
  });

  it('leaves stride 2 (winograd_s2_*), dilation 2, 1x1, K < 16 and C*K >= 2^20 (w=[1024,1024,3,3]) to the other kernels, with the reason', () => {
    for (const [shape, opts, why] of [
      [[64, 64, 3, 3], { padding: 1, stride: 2 }, 'needs stride 1'],
      [[64, 64, 3, 3], { padding: 2, dilation: 2 }, 'needs dilation 1'],
      [[64, 64, 1, 1], {}, 'needs a 3x3 kernel'],
      [[8, 64, 3, 3], { padding: 1 }, 'fewer than 16 output channels'],
      [[1024, 1024, 3, 3], { padding: 1 }, 'C*K >= 2^20'],
    ] as const) {
      const p = plan([...shape] as [number, number, number, number], opts);
      expect(p.info().impl).not.toBe(`winograd_${best}`);
      expect((p.info().fallbacks as string[]).some((f) => f.startsWith(`winograd_${best}: ${why}`))).toBe(true);
      p.dispose();
    }
  });

  it('an ISA cap of avx2 picks winograd_avx2, of scalar winograd_scalar (w=[32,32,3,3])', () => {
    for (const isa of ['avx2', 'scalar'] as const) {
      if (ISA_RANK[best] < ISA_RANK[isa]) continue;
      const p = plan([32, 32, 3, 3], { padding: 1, isa });
      expect(p.info().impl).toBe(`winograd_${isa}`);
      p.dispose();
    }
  });
});
