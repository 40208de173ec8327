// conv2dAsync runs native work off the event loop: concurrent calls each get
// the right answer (bit-identical to the sync call), inputs stay pinned, and
// the event loop keeps ticking during a long convolution.
import { describe, expect, it } from 'vitest';

import { conv2d, conv2dAsync, conv2dPlan, randn, zeros } from '../lib';
import { nativeHostBackends } from './helpers/backends';

describe.each(nativeHostBackends())('conv2dAsync on %s', (backend) => {
  const b = backend as 'cpu';

  it('32 concurrent calls with different inputs give the same bits as the sync calls', async () => {
    const cases = Array.from({ length: 32 }, (_, i) => {
      const groups = [1, 2, 4, 8][i % 4];
      const x = randn([1 + (i % 3), 16, 9 + (i % 5), 11], { seed: 100 + i });
      const w = randn([16, 16 / groups, 3, 3], { seed: 200 + i });
      return { x, w, opts: { groups, padding: 1, stride: 1 + (i % 2), backend: b } };
    });
    const sync = cases.map((c) => conv2d(c.x, c.w, c.opts).dataSync().slice());
    const results = await Promise.all(cases.map((c) => conv2dAsync(c.x, c.w, c.opts)));
    results.forEach((r, i) => {
      expect(r.shape).toEqual(conv2d(cases[i].x, cases[i].w, cases[i].opts).shape);
      expect(Buffer.from(r.dataSync().buffer).equals(Buffer.from(sync[i].buffer))).toBe(true);
    });
  });

  it('inputs stay alive and unmodified while the work runs, even if the caller drops or disposes them', async () => {
    const x = randn([2, 64, 40, 40], { seed: 1 });
    const w = randn([64, 2, 3, 3], { seed: 2 });
    const xCopy = x.dataSync().slice();
    const expected = conv2d(x, w, { groups: 32, padding: 1, backend: b }).dataSync().slice();
    const pending = conv2dAsync(x, w, { groups: 32, padding: 1, backend: b });
    x.dispose();
    w.dispose();
    const y = await pending;
    expect(Buffer.from(y.dataSync().buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    // The input memory itself was not written by the kernel.
    const again = randn([2, 64, 40, 40], { seed: 1 }).dataSync();
    expect(Buffer.from(again.buffer).equals(Buffer.from(xCopy.buffer))).toBe(true);
  });

  it('the event loop keeps ticking while a large async convolution runs', async () => {
    // A dense conv of ~15 GFLOP: tens of milliseconds even on the fastest kernels.
    const x = randn([16, 128, 56, 56], { seed: 3 });
    const w = randn([128, 128, 3, 3], { seed: 4 });
    const plan = conv2dPlan(w, { padding: 1, backend: b });
    // Time one synchronous run to know how long the work is.
    const t0 = performance.now();
    plan.run(x);
    const syncMs = performance.now() - t0;

    // The output exists before the timer starts: a fresh 25 MB output is NaN-filled on this thread in the
    // suite (RESNEXT_POISON_OUTPUTS), which is the test's own work, not the convolution's.
    const out = zeros([16, 128, 56, 56]);
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 2);
    const start = performance.now();
    await plan.runAsync(x, { out });
    const asyncMs = performance.now() - start;
    clearInterval(timer);
    // While the conv ran on a worker thread, the 2 ms timer fired repeatedly and
    // no gap came near the length of the whole convolution (a blocked loop would
    // show no tick at all and one gap as long as the conv). The bounds are
    // relative to the measured durations so a busy CI machine does not flake.
    expect(syncMs).toBeGreaterThan(10);
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(maxGap).toBeLessThan(Math.max(asyncMs, syncMs) / 2);
  });
});
