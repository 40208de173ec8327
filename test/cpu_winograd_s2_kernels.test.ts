// The stride-2 Winograd CPU kernels (native/cpu/conv_winograd_s2.inc, in
// conv_winograd_*.cc): dense 3x3 stride-2 convolutions with 16 or more output
// channels and C*K <= 2^16, by parity decomposition (F(2x2,2x2), F(2,2) twice
// and a 1x1 part). Every ISA variant is forced by name on every shape below
// and compared with the float64 TS reference (normwise relative error <= 1e-4,
// helpers/compare.ts); variants the CPU cannot run are skipped with the reason.
// A run of fewer than 192 tiles (2x2 outputs; batch x tiles per image) goes to
// the same ISA's gemm kernel with the weights the plan packed for it: each
// case says which path it takes. The Winograd cases stress odd C and K
// (17, 24), odd outputs (partial tiles: the last output row and column of a
// tile dropped), pad 0, pad 2 and asymmetric padding (zero planes and edge
// columns), batch > 1 (chunks of tiles spanning images), rows longer than 16
// tiles, and more than one block of input channels (C > 128).
import { describe, expect, it } from 'vitest';

import { conv2dPlan, randn } from '../lib';
import { best, type Case, describeVariants, hasAddon, ISA_RANK, dense3x3Case } from './helpers/kernel_cases';

const c = dense3x3Case(2);

const cases: Case[] = [
  // Winograd: ResNet-50's first stride-2 3x3 scaled down in channels, 56x56 in (196 tiles).
  c(1, 32, 56, 56, 32, 1),
  // Winograd: odd C and K, batch 4 of 25x27 in (13x14 out: 49 tiles each, the last tile row half used).
  c(4, 17, 25, 27, 24, 1),
  // Winograd: asymmetric padding [top, left, bottom, right] = [2, 1, 0, 3], batch 3 (64 tiles each).
  c(3, 20, 30, 29, 16, [2, 1, 0, 3]),
  // Winograd: pad 0 and pad 2 on odd images, batch 3 (90 and 81 tiles each).
  c(3, 16, 41, 37, 16, 0),
  c(3, 24, 33, 31, 40, 2),
  // Winograd: 144 input channels (two blocks of 72), 56x56 in.
  c(1, 144, 56, 56, 16, 1),
  // Winograd: rows of 18 tiles (70 wide in), more than the 16 one AVX-512 row split handles at once.
  c(1, 16, 44, 70, 16, 1),
  // gemm fallback: one image of 13x11 (12 tiles), and an output one wide.
  c(1, 17, 13, 11, 24, 1),
  c(2, 16, 9, 3, 16, 0),
];

describe.skipIf(!hasAddon)('cpu stride-2 winograd kernels vs float64 reference', () => describeVariants('winograd_s2', cases, 501));

describe.skipIf(!hasAddon)('cpu stride-2 winograd kernel dispatch', () => {
  const plan = (shape: [number, number, number, number], opts: Record<string, unknown>) =>
    conv2dPlan(randn(shape, { seed: 1 }), { ...opts, backend: 'cpu' });

  it(`picks winograd_s2_${best} for dense 3x3 stride 2 with C*K <= 2^16 (w=[256,256,3,3] and w=[128,64,3,3] p=1)`, () => {
    for (const shape of [
      [256, 256, 3, 3],
      [128, 64, 3, 3],
    ] as const) {
      const p = plan([...shape] as [number, number, number, number], { padding: 1, stride: 2 });
      expect(p.info().impl).toBe(`winograd_s2_${best}`);
      // Small runs go to gemm, decided per run: info() says so.
      expect(p.info().perRun).toBe(`runs of fewer than 192 tiles of 2x2 outputs (over the batch) use gemm_${best}'s kernel`);
      p.dispose();
    }
  });

  it('refuses stride 1 when forced (w=[64,64,3,3]), with the reason', () => {
    expect(() => plan([64, 64, 3, 3], { padding: 1, impl: `winograd_s2_${best}` })).toThrow(`winograd_s2_${best}: needs stride 2`);
  });

  it('leaves grouped, dilation 2, K < 16 and C*K > 2^16 (w=[512,512,3,3]) to the other kernels, with the reason', () => {
    for (const [shape, opts, why] of [
      [[64, 16, 3, 3], { padding: 0, stride: 2, groups: 4 }, 'grouped'],
      [[64, 64, 3, 3], { padding: 2, stride: 2, dilation: 2 }, 'needs dilation 1'],
      [[8, 64, 3, 3], { padding: 1, stride: 2 }, 'fewer than 16 output channels'],
      [[512, 512, 3, 3], { padding: 1, stride: 2 }, 'C*K > 2^16'],
    ] as const) {
      const p = plan([...shape] as [number, number, number, number], opts);
      expect(p.info().impl).not.toMatch(/^winograd_s2/);
      expect((p.info().fallbacks as string[]).some((f) => f.startsWith(`winograd_s2_${best}: ${why}`))).toBe(true);
      p.dispose();
    }
  });

  it("algorithm 'direct' skips it for gemm (w=[256,256,3,3] s=2), and ISA caps pick winograd_s2_avx2 and winograd_s2_scalar", () => {
    const d = plan([256, 256, 3, 3], { padding: 1, stride: 2, algorithm: 'direct' });
    expect(d.info().impl).toBe(`gemm_${best}`);
    d.dispose();
    for (const isa of ['avx2', 'scalar'] as const) {
      if (ISA_RANK[best] < ISA_RANK[isa]) continue;
      const p = plan([32, 32, 3, 3], { padding: 1, stride: 2, isa });
      expect(p.info().impl).toBe(`winograd_s2_${isa}`);
      p.dispose();
    }
  });
});
