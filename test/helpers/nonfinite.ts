// The non-finite battery: NaN and +-Inf inputs through one CPU kernel (forced
// by name and ISA) with the fused bias + ReLU epilogue, checked element by
// element against the float64 reference. Direct-style kernels must agree
// exactly on which outputs are NaN, +Inf or -Inf; Winograd kernels mix a
// whole tile's inputs in their transforms, so a non-finite input may turn
// other outputs of its tile into NaN (documented in docs/safety.md), but every
// output the reference makes non-finite must be non-finite too, and NaN must
// never come out finite. Finite outputs are compared with the usual tolerance.
import { expect } from 'vitest';

import { conv2d, conv2dPlan, randn, type Tensor } from '../../lib';
import { REL_TOL } from './compare';
import type { Case, Isa } from './kernel_cases';

export interface KernelShape {
  family: string;
  isas: readonly Isa[];
  t: Case;
  /** Winograd: transforms spread a non-finite input over its tile. */
  transformed?: boolean;
}

const c = (n: number, ch: number, h: number, w: number, k: number, r: number, groups: number, stride: number, padding: number): Case => ({
  n,
  c: ch,
  h,
  w,
  k,
  r,
  s: r,
  groups,
  stride,
  dilation: 1,
  padding,
});
const ALL: readonly Isa[] = ['avx512', 'avx2', 'scalar'];

/** One supported shape per CPU kernel family (every kernel of native/cpu/registry.cc; two for a kernel with two paths). */
export const KERNEL_SHAPES: KernelShape[] = [
  { family: 'depthwise3x3', isas: ALL, t: c(2, 19, 9, 11, 19, 3, 19, 1, 1) },
  { family: 'winograd_grouped', isas: ['avx512'], t: c(2, 64, 14, 14, 64, 3, 4, 1, 1), transformed: true },
  // Its F(4x4) with four images per vector (outputs of at most 8x8 at batch 3 and more).
  { family: 'winograd_grouped', isas: ['avx512'], t: c(5, 64, 7, 7, 64, 3, 4, 1, 1), transformed: true },
  // Dense F(4x4) with the weights transformed per run (a network's rival to winograd_grouped's dense F(4x4)).
  { family: 'winograd43_otf', isas: ['avx512'], t: c(2, 48, 13, 13, 48, 3, 1, 1, 1), transformed: true },
  // The same, grouped (ResNeXt-50's layer3 3x3s: a network's rival to winograd_grouped's grouped F(4x4)).
  { family: 'winograd43_otf', isas: ['avx512'], t: c(2, 64, 13, 13, 64, 3, 4, 1, 1), transformed: true },
  // Dense F(2x2) with the weights transformed per run (a network's rival to winograd's packed F(2x2)).
  { family: 'winograd22_otf', isas: ['avx512'], t: c(2, 40, 9, 7, 24, 3, 1, 1, 1), transformed: true },
  { family: 'grouped3x3s1', isas: ALL, t: c(2, 24, 9, 13, 24, 3, 4, 1, 1) },
  { family: 'grouped3x3s2', isas: ALL, t: c(2, 24, 11, 13, 24, 3, 4, 2, 1) },
  // 8 output channels per group in the lanes: a stride-1 and a stride-2 path.
  { family: 'grouped3x3_bcast8', isas: ALL, t: c(2, 16, 11, 13, 16, 3, 2, 1, 1) },
  { family: 'grouped3x3_bcast8', isas: ALL, t: c(2, 16, 11, 13, 16, 3, 2, 2, 1) },
  { family: 'grouped3x3s2_rows', isas: ['avx512'], t: c(2, 32, 19, 27, 32, 3, 2, 2, 1) },
  { family: 'grouped3x3s2_bcast', isas: ['avx512'], t: c(2, 32, 19, 27, 32, 3, 2, 2, 1) },
  { family: 'grouped3x3s2_small', isas: ['avx512'], t: c(2, 64, 13, 13, 64, 3, 2, 2, 1) },
  { family: 'grouped3x3s2_bcast32', isas: ['avx512'], t: c(2, 64, 13, 15, 64, 3, 2, 2, 1) },
  // Its two-row blocks at 7 wide (the first leaves out the top padding row).
  { family: 'grouped3x3s2_bcast32', isas: ['avx512'], t: c(3, 64, 14, 14, 64, 3, 2, 2, 1) },
  { family: 'grouped', isas: ALL, t: c(2, 12, 9, 10, 18, 5, 3, 1, 2) },
  { family: 'winograd', isas: ALL, t: c(1, 16, 20, 17, 24, 3, 1, 1, 1), transformed: true },
  { family: 'winograd_s2', isas: ALL, t: c(1, 32, 56, 56, 32, 3, 1, 2, 1), transformed: true },
  { family: 'stem', isas: ALL, t: c(2, 3, 19, 23, 24, 7, 1, 2, 3) },
  { family: 'gemm', isas: ALL, t: c(2, 20, 9, 11, 33, 3, 1, 1, 1) },
  { family: 'direct', isas: ALL, t: c(2, 6, 9, 10, 7, 3, 1, 1, 1) },
  // The blocked Winograd kernels, forced on NCHW tensors ({cb}: nchw16c with AVX-512, nchw8c otherwise).
  { family: 'winograd3x3_{cb}', isas: ALL, t: c(2, 20, 11, 9, 24, 3, 1, 1, 1), transformed: true },
  { family: 'winograd43_{cb}', isas: ALL, t: c(2, 20, 13, 10, 24, 3, 1, 1, 1), transformed: true },
];

export type Poison = 'nan' | 'inf';

/**
 * x with a sparse set of poisoned pixels in channel 0 of each image (every
 * 53rd pixel): NaN ('nan'), or +Inf there and -Inf at every 59th pixel of the
 * last channel ('inf'). Sparse, so dense convs and Winograd tiles still have
 * outputs that no poisoned input reaches.
 */
export function poisoned(shape: [number, number, number, number], what: Poison, seed: number): Tensor {
  const x = randn(shape, { seed });
  const d = x.dataSync();
  const [N, C, H, W] = shape;
  const plane = H * W;
  for (let n = 0; n < N; n++) {
    const first = n * C * plane,
      last = (n * C + C - 1) * plane;
    if (what === 'nan') for (let i = 7; i < plane; i += 53) d[first + i] = NaN;
    else {
      for (let i = 3; i < plane; i += 53) d[first + i] = Infinity;
      for (let i = 11; i < plane; i += 59) d[last + i] = -Infinity;
    }
  }
  return x;
}

const kind = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite');

/** Runs kernel `impl` at `isa` on poisoned input and checks every output against the reference. */
export function checkNonFinite(k: KernelShape, impl: string, isa: Isa, what: Poison, seed: number): void {
  const { t } = k;
  const x = poisoned([t.n, t.c, t.h, t.w], what, seed);
  const w = randn([t.k, t.c / t.groups, t.r, t.s], { seed: seed + 1 });
  const bias = randn([t.k], { seed: seed + 2 });
  const opts = { groups: t.groups, stride: t.stride, dilation: t.dilation, padding: t.padding, bias, activation: 'relu' as const };
  const plan = conv2dPlan(w, { ...opts, backend: 'cpu', impl, isa });
  try {
    expect(plan.info().impl).toBe(impl);
    const ref = conv2d(x, w, { ...opts, backend: 'reference' }).dataSync();
    const got = plan.run(x).dataSync();
    let maxDiff = 0,
      maxRef = 0,
      refNonFinite = 0,
      finiteBoth = 0;
    const mismatches: string[] = [];
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i],
        g = got[i];
      if (!Number.isFinite(r)) refNonFinite++;
      if (Number.isFinite(r) && Number.isFinite(g)) {
        finiteBoth++;
        maxDiff = Math.max(maxDiff, Math.abs(g - r));
        maxRef = Math.max(maxRef, Math.abs(r));
        continue;
      }
      const ok = k.transformed
        ? // Every non-finite reference output is non-finite; NaN where the reference has Inf or a finite value is the transform's.
          (Number.isFinite(r) && Number.isNaN(g)) || (!Number.isFinite(r) && (Number.isNaN(g) || g === r))
        : kind(g) === kind(r);
      if (!ok && mismatches.length < 5) mismatches.push(`[${i}] ref ${kind(r)} ${r} got ${kind(g)} ${g}`);
    }
    expect(mismatches, `${impl} ${what}: outputs whose class differs from the reference`).toEqual([]);
    expect(refNonFinite, 'the battery must produce non-finite reference outputs').toBeGreaterThan(0);
    expect(finiteBoth, 'and finite ones').toBeGreaterThan(0);
    expect(maxDiff / Math.max(maxRef, 1e-30)).toBeLessThanOrEqual(REL_TOL);
  } finally {
    plan.dispose();
  }
}
