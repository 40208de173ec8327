// Kernel choice by measurement (conv2dPlan's tune option) on the cpu backend:
// the option is honoured, info() reports the candidates, the timings and the
// choice per input shape, winners are cached per process, and results stay
// within 1e-4 of the float64 reference whichever kernel wins, at every ISA.
import { beforeEach, describe, expect, it } from 'vitest';

import { conv2d, conv2dPlan, randn } from '../lib';
import { clearTuneCache, type TuneChoice } from '../lib/ops/conv2d_tune';
import { REL_TOL, relErr } from './helpers/compare';
import { best, hasAddon, ISA_RANK, type Isa } from './helpers/kernel_cases';

const isas = (['avx512', 'avx2', 'scalar'] as const).filter((i) => ISA_RANK[i] <= ISA_RANK[best]);

// Dense 3x3 stride 1 with more than 256 channels: Winograd F(2x2,3x3) against gemm at every ISA.
const w = randn([288, 288, 3, 3], { seed: 1 });
const x = randn([1, 288, 12, 12], { seed: 2 });
const opts = { padding: 1 } as const;

interface Tuning {
  enabled: boolean;
  candidates?: string[];
  choices?: TuneChoice[];
  last?: TuneChoice | null;
}

function tuning(info: Record<string, unknown>): Tuning {
  return info.tuning as Tuning;
}

describe.skipIf(!hasAddon)('conv2dPlan tune option (cpu)', () => {
  beforeEach(() => clearTuneCache());

  it.each(isas.map((i) => [i] as const))('tune: true times winograd and gemm on x [1,288,12,12], w [288,288,3,3] (%s)', (isa: Isa) => {
    const plan = conv2dPlan(w, { ...opts, isa, tune: true });
    expect(tuning(plan.info())).toMatchObject({ enabled: true, candidates: [`winograd_${isa}`, `gemm_${isa}`], choices: [] });
    const y = plan.run(x);
    const t = tuning(plan.info());
    expect(t.choices).toHaveLength(1);
    const c = t.choices![0];
    expect(c.source).toBe('measured');
    expect(c.inputShape).toEqual([1, 288, 12, 12]);
    expect(Object.keys(c.timingsMs).sort()).toEqual([`gemm_${isa}`, `winograd_${isa}`]);
    for (const ms of Object.values(c.timingsMs)) expect(ms).toBeGreaterThan(0);
    const fastest = Object.entries(c.timingsMs).sort((a, b) => a[1] - b[1])[0][0];
    expect(c.chosen).toBe(fastest);
    expect(plan.info().impl).toBe(c.chosen);
    const r = conv2d(x, w, { ...opts, backend: 'reference' });
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
    plan.dispose();
  });

  it('keeps the cost model choice without the option, with tune: false and with algorithm direct', () => {
    for (const o of [{}, { tune: false }, { tune: true, algorithm: 'direct' as const }]) {
      const plan = conv2dPlan(w, { ...opts, ...o });
      plan.run(x);
      expect(tuning(plan.info())).toEqual({ enabled: false });
      expect(plan.info().impl).toBe('algorithm' in o ? `gemm_${best}` : `winograd_${best}`);
      plan.dispose();
    }
  });

  it('measures each input shape once and caches winners per process (x [1,288,12,12] then [2,288,20,20])', async () => {
    const a = conv2dPlan(w, { ...opts, tune: true });
    a.run(x);
    const x2 = randn([2, 288, 20, 20], { seed: 3 });
    const y2 = await a.runAsync(x2);
    expect(tuning(a.info()).choices!.map((c) => c.inputShape)).toEqual([
      [1, 288, 12, 12],
      [2, 288, 20, 20],
    ]);
    const r2 = conv2d(x2, w, { ...opts, backend: 'reference' });
    expect(relErr(y2.dataSync(), r2.dataSync())).toBeLessThanOrEqual(REL_TOL);
    // A second plan for the same layer takes the winner from the process cache.
    const b = conv2dPlan(w, { ...opts, tune: true });
    b.run(x);
    const cb = tuning(b.info()).last!;
    const ca = tuning(a.info()).choices![0];
    expect(cb.source).toBe('cached');
    expect(cb.chosen).toBe(ca.chosen);
    expect(cb.timingsMs).toEqual(ca.timingsMs);
    a.dispose();
    b.dispose();
  });

  it('writes out once, with the fused epilogue, after timing (bias, residual, relu)', () => {
    const bias = randn([288], { seed: 4 });
    const residual = randn([1, 288, 12, 12], { seed: 5 });
    const plan = conv2dPlan(w, { ...opts, bias, activation: 'relu', tune: true });
    const y = plan.run(x, { residual });
    const r = conv2d(x, w, { ...opts, bias, residual, activation: 'relu', backend: 'reference' });
    expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
    plan.dispose();
  });

  it('rejects a non-boolean tune', () => {
    expect(() => conv2dPlan(w, { tune: 'yes' as never })).toThrow(TypeError);
    expect(() => conv2dPlan(w, { tune: 'yes' as never })).toThrow(/tune/);
  });
});
