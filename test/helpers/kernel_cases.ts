// Shared by the CPU kernel suites (cpu_gemm_kernels, cpu_grouped_kernels, cpu_winograd_kernels):
// the case description, its name spelling out the shape, the epilogue
// variants, and the check that forces one kernel by name and ISA and compares
// it with the float64 reference (normwise relative error <= 1e-4), twice into
// the same output so a run cannot depend on what the previous one left there,
// and with a residual once more with out === residual (in place).
import { describe, expect, it } from 'vitest';

import { conv2d, conv2dPlan, cpuInfo, getNumThreads, randn, setNumThreads, type Tensor, tensor } from '../../lib';
import { REL_TOL, relErr } from './compare';

export type Pair = number | [number, number];
export type Pad = number | [number, number] | [number, number, number, number];
export type Isa = 'scalar' | 'avx2' | 'avx512';

export interface Case {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  s: number;
  groups: number;
  stride: Pair;
  dilation: Pair;
  padding: Pad;
}

/** A dense 3x3 case (groups 1, dilation 1) at `stride`: (n, c, h, w, k, padding) -> Case. */
export const dense3x3Case =
  (stride: number) =>
  (n: number, c: number, h: number, w: number, k: number, padding: Pad): Case => ({
    n,
    c,
    h,
    w,
    k,
    r: 3,
    s: 3,
    groups: 1,
    stride,
    dilation: 1,
    padding,
  });

/** A grouped 3x3 case (stride 1, dilation 1): (n, c, h, w, k, groups, padding) -> Case. */
export const grouped3x3Case = (n: number, c: number, h: number, w: number, k: number, groups: number, padding: Pad): Case => ({
  ...dense3x3Case(1)(n, c, h, w, k, padding),
  groups,
});

const fmt = (v: unknown) => (Array.isArray(v) ? `[${v.join(',')}]` : String(v));
export function caseName(t: Case): string {
  return `x=[${t.n},${t.c},${t.h},${t.w}] w=[${t.k},${t.c / t.groups},${t.r},${t.s}] g=${t.groups} s=${fmt(t.stride)} d=${fmt(t.dilation)} p=${fmt(t.padding)}`;
}

export const ISA_RANK: Record<string, number> = { scalar: 0, avx2: 1, avx512: 2 };
export const best = cpuInfo()?.best ?? 'scalar';
export const hasAddon = cpuInfo() !== null;

// Epilogue variants rotate over the cases; the first case of each family runs all four.
export const epilogues = [
  { bias: false, residual: false, relu: false },
  { bias: true, residual: false, relu: true },
  { bias: true, residual: true, relu: true },
  { bias: false, residual: true, relu: false },
];
export type Epilogue = (typeof epilogues)[number];

export function outShape(t: Case): [number, number, number, number] {
  const [sh, sw] = Array.isArray(t.stride) ? t.stride : [t.stride, t.stride];
  const [dh, dw] = Array.isArray(t.dilation) ? t.dilation : [t.dilation, t.dilation];
  let pt: number, pl: number, pb: number, pr: number;
  if (Array.isArray(t.padding)) {
    if (t.padding.length === 2) [pt, pl, pb, pr] = [t.padding[0], t.padding[1], t.padding[0], t.padding[1]];
    else [pt, pl, pb, pr] = t.padding as [number, number, number, number];
  } else pt = pl = pb = pr = t.padding;
  const P = Math.floor((t.h + pt + pb - dh * (t.r - 1) - 1) / sh) + 1;
  const Q = Math.floor((t.w + pl + pr - dw * (t.s - 1) - 1) / sw) + 1;
  return [t.n, t.k, P, Q];
}

/**
 * One describe block per ISA variant `${family}_${isa}` (skipped with the reason when this CPU lacks the ISA),
 * one test per case x epilogue: the first case runs every epilogue, the others rotate through them.
 * Case i uses seed `seed + i`.
 */
export function describeVariants(family: string, cases: Case[], seed: number, isas: readonly Isa[] = ['avx512', 'avx2', 'scalar']): void {
  for (const isa of isas) {
    const impl = `${family}_${isa}`;
    describe.skipIf(ISA_RANK[isa] > ISA_RANK[best])(`${impl} (needs ${isa}; this CPU: ${best})`, () => {
      cases.forEach((t, i) => {
        const eps = i === 0 ? epilogues : [epilogues[i % epilogues.length]];
        for (const e of eps) {
          it(`${caseName(t)} bias=${e.bias} residual=${e.residual} relu=${e.relu}`, () => checkKernel(t, impl, isa, e, seed + i));
        }
      });
    });
  }
}

/** Forces kernel `impl` at `isa` on case t with epilogue e and checks it against the reference. */
export function checkKernel(t: Case, impl: string, isa: Isa, e: Epilogue, seed: number): void {
  const x = randn([t.n, t.c, t.h, t.w], { seed });
  const w = randn([t.k, t.c / t.groups, t.r, t.s], { seed: seed + 1 });
  const bias = e.bias ? randn([t.k], { seed: seed + 2 }) : undefined;
  const residual: Tensor | undefined = e.residual ? randn(outShape(t), { seed: seed + 3 }) : undefined;
  const opts = {
    groups: t.groups,
    stride: t.stride,
    dilation: t.dilation,
    padding: t.padding,
    bias,
    activation: e.relu ? ('relu' as const) : ('none' as const),
  };
  const plan = conv2dPlan(w, { ...opts, backend: 'cpu', impl, isa });
  try {
    expect(plan.info().impl).toBe(impl);
    const r = conv2d(x, w, { ...opts, residual, backend: 'reference' });
    const y = plan.run(x, { residual });
    expect(y.shape).toEqual(r.shape);
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
    plan.run(x, { residual, out: y });
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
    if (residual) {
      // out === residual: in place where the kernel allows it (ConvImpl::residual_in_place), else from a copy.
      const inout = tensor(residual.dataSync().slice(), residual.shape);
      plan.run(x, { residual: inout, out: inout });
      expect(relErr(inout.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
    }
  } finally {
    plan.dispose();
  }
}

/**
 * Forces kernel `impl` on x of shape xs and weights ws (3x3, padding 1, stride `stride`, bias, residual, ReLU) at
 * 1, 2, 3 and 7 threads: for kernels whose threads split the output channels or rows, every output is computed the
 * same way whatever the split, so the runs must be bit for bit the same, and agree with the float64 reference.
 */
/** Shapes both per-run-transform Winograd kernels refuse when forced: [weight shape, options, reason]. */
export const OTF_REFUSALS: readonly (readonly [number[], Record<string, number>, string])[] = [
  [[64, 8, 3, 3], { groups: 4, padding: 1 }, 'needs at least 14 input and output channels per group'],
  [[288, 144, 3, 3], { groups: 2, padding: 1 }, 'needs at most 128 input and output channels per group'],
  [[64, 64, 3, 3], { padding: 1, stride: 2 }, 'needs stride 1'],
  [[64, 64, 3, 3], { padding: 2, dilation: 2 }, 'needs dilation 1'],
  [[8, 8, 3, 3], { padding: 1 }, 'needs at least 14 input and output channels'],
  [[64, 64, 1, 1], {}, 'needs a 3x3 kernel'],
];

/** Forcing `impl` on each [weight shape, options, reason] throws `${impl}: ${reason}`. */
export function expectRefusals(impl: string, rows: readonly (readonly [number[], Record<string, number>, string])[]): void {
  for (const [shape, opts, why] of rows) {
    const w = randn([...shape], { seed: 1 });
    expect(() => conv2dPlan(w, { ...opts, backend: 'cpu', impl })).toThrow(`${impl}: ${why}`);
  }
}

/**
 * One test per [N, C, H, W, groups] shape (3x3, C -> C channels, padding 1): checkThreadSplit of `impl`.
 */
export function itSplitsThreads(impl: string, shapes: readonly (readonly [number, number, number, number, number])[]): void {
  for (const [N, C, H, W, G] of shapes) {
    it(`x=[${N},${C},${H},${W}] w=[${C},${C / G},3,3] g=${G} p=1: bias, residual, ReLU; threads 1, 2, 3, 7 bit-identical and <= 1e-4 of the reference`, () =>
      checkThreadSplit(impl, [N, C, H, W], [C, C / G, 3, 3], G));
  }
}

export function checkThreadSplit(impl: string, xs: number[], ws: number[], groups: number, stride = 1): void {
  const initial = getNumThreads();
  const x = randn(xs, { seed: 11 });
  const w = randn(ws, { seed: 12 });
  const bias = randn([ws[0]], { seed: 13 });
  const residual = randn(
    outShape({ n: xs[0], c: xs[1], h: xs[2], w: xs[3], k: ws[0], r: 3, s: 3, groups, stride, dilation: 1, padding: 1 }),
    {
      seed: 14,
    },
  );
  const opts = { groups, stride, padding: 1, bias, activation: 'relu' as const };
  const ref = conv2d(x, w, { ...opts, residual, backend: 'reference' }).dataSync();
  const plan = conv2dPlan(w, { ...opts, backend: 'cpu', impl });
  try {
    const outs: Float32Array[] = [];
    for (const t of [1, 2, 3, 7]) {
      setNumThreads(t);
      outs.push(plan.run(x, { residual }).dataSync());
    }
    expect(relErr(outs[0], ref)).toBeLessThanOrEqual(REL_TOL);
    for (const o of outs.slice(1)) expect(Buffer.from(o.buffer).equals(Buffer.from(outs[0].buffer))).toBe(true);
  } finally {
    setNumThreads(initial);
    plan.dispose();
  }
}
