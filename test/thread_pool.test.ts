// The CPU backend's thread pool (native/cpu/thread_pool.cc): each thread runs
// a contiguous share of a job's tasks and steals from the others' shares when
// its own is done. Every kernel writes each output element from exactly one
// task, so a task never run (a lost claim) shows up as a
// wrong output (the reused output is filled with NaN before each run). The cases run kernels with very different task counts and
// lengths (depthwise: hundreds of tiny tasks; 1x1 gemm: a few dozen; grouped
// stride 2: one per group; Winograd: a handful of long ones) at 1, 2, 3, 5 and
// 8 threads: more threads than this machine's cores, so that workers are
// descheduled mid-job and the others steal their shares. Each plan then runs
// many times back to back into the same output (runs of equal task counts
// publish equal shares: a late worker must neither claim a finished run's
// tasks twice nor lose the next run's), each result checked against the
// float64 reference.
import { afterAll, describe, expect, it } from 'vitest';

import { conv2d, conv2dPlan, getNumThreads, randn, setNumThreads, type Tensor } from '../lib';
import { REL_TOL, relErr } from './helpers/compare';
import { hasAddon } from './helpers/kernel_cases';

interface PoolCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  opts: { groups?: number; stride?: number; padding?: number };
}

const cases: PoolCase[] = [
  { name: 'depthwise x=[2,64,20,20] w=[64,1,3,3] g=64 p=1', x: [2, 64, 20, 20], w: [64, 1, 3, 3], opts: { groups: 64, padding: 1 } },
  { name: '1x1 x=[1,64,28,28] w=[256,64,1,1]', x: [1, 64, 28, 28], w: [256, 64, 1, 1], opts: {} },
  {
    name: 'grouped stride 2 x=[1,96,30,30] w=[96,8,3,3] g=12 s=2 p=1',
    x: [1, 96, 30, 30],
    w: [96, 8, 3, 3],
    opts: { groups: 12, stride: 2, padding: 1 },
  },
  { name: 'dense 3x3 x=[1,32,30,30] w=[48,32,3,3] p=1', x: [1, 32, 30, 30], w: [48, 32, 3, 3], opts: { padding: 1 } },
];

describe.skipIf(!hasAddon)('cpu thread pool: every task exactly once, at any thread count', () => {
  const initial = hasAddon ? getNumThreads() : 1;
  afterAll(() => {
    if (hasAddon) setNumThreads(initial);
  });

  for (const threads of [1, 2, 3, 5, 8]) {
    for (const c of cases) {
      it(`${threads} threads: ${c.name}, 12 runs into one output`, () => {
        expect(setNumThreads(threads)).toBe(threads);
        const x = randn(c.x, { seed: 11 });
        const w = randn(c.w, { seed: 12 });
        const ref = conv2d(x, w, { ...c.opts, backend: 'reference' }).dataSync();
        const plan = conv2dPlan(w, { ...c.opts, backend: 'cpu' });
        let out: Tensor | undefined;
        try {
          for (let run = 0; run < 12; run++) {
            // NaN first: a task that never ran leaves NaN, not the previous run's result.
            if (out) out.dataSync().fill(NaN);
            out = out ? plan.run(x, { out }) : plan.run(x);
            expect(relErr(out.dataSync(), ref)).toBeLessThanOrEqual(REL_TOL);
          }
        } finally {
          plan.dispose();
        }
      });
    }
  }

  it('async runs from many callers at 3 threads each get their own correct result (x=[1,64,28,28] w=[256,64,1,1])', async () => {
    setNumThreads(3);
    const w = randn([256, 64, 1, 1], { seed: 12 });
    const plan = conv2dPlan(w, { backend: 'cpu' });
    try {
      const xs = [0, 1, 2, 3, 4, 5].map((i) => randn([1, 64, 28, 28], { seed: 20 + i }));
      const ys = await Promise.all(xs.map((x) => plan.runAsync(x)));
      ys.forEach((y, i) =>
        expect(relErr(y.dataSync(), conv2d(xs[i], w, { backend: 'reference' }).dataSync())).toBeLessThanOrEqual(REL_TOL),
      );
    } finally {
      plan.dispose();
    }
  });
});
