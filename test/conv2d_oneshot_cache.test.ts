// The one-shot conv2d()/conv2dAsync() plan cache on the cpu backend: a plan is
// reused only while the weight and bias values are unchanged, whatever path
// wrote them (the tensor's dataSync() view, the caller's own Float32Array, a
// reshaped alias), and every answer matches the float64 reference.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { conv2d, conv2dAsync, conv2dPlan, randn, tensor } from '../lib';
import { cpuBackend } from '../lib/backends/cpu';
import { oneShotPlanCache } from '../lib/ops/conv2d';
import { hasAddon } from './helpers/kernel_cases';
import { REL_TOL, relErr } from './helpers/compare';

const cache = oneShotPlanCache();

const opts = { groups: 32, padding: 1 } as const;

function check(y: { dataSync(): Float32Array }, x: Parameters<typeof conv2d>[0], w: Parameters<typeof conv2d>[1], extra = {}) {
  const r = conv2d(x, w, { ...opts, ...extra, backend: 'reference' });
  expect(relErr(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(REL_TOL);
}

describe.skipIf(!hasAddon)('one-shot conv2d plan cache (cpu)', () => {
  beforeEach(() => cache.clear());
  afterEach(() => cache.clear());

  it('reuses the plan for unchanged weights (x [1,64,14,14], w [64,2,3,3] g32)', () => {
    const x = randn([1, 64, 14, 14], { seed: 1 });
    const w = randn([64, 2, 3, 3], { seed: 2 });
    const y1 = conv2d(x, w, opts);
    expect(cache.lastOutcome).toBe('miss');
    const y2 = conv2d(x, w, opts);
    expect(cache.lastOutcome).toBe('hit');
    for (const y of [y1, y2]) check(y, x, w);
    expect(cache.stats()).toMatchObject({ miss: 1, hit: 1, entries: 1 });
  });

  it('sees a write through the dataSync() view (x [1,512,14,14], w [512,16,3,3] g32)', () => {
    const x = randn([1, 512, 14, 14], { seed: 3 });
    const w = randn([512, 16, 3, 3], { seed: 4 });
    conv2d(x, w, opts);
    conv2d(x, w, opts);
    // One element, mid-tensor: a cheap checksum over blocks could miss it; the exact compare does not.
    w.dataSync()[12345] += 0.5;
    const y = conv2d(x, w, opts);
    expect(cache.lastOutcome).toBe('changed');
    check(y, x, w);
  });

  it("sees a write through the caller's own Float32Array and through a reshaped alias (x [1,32,9,9], w [32,1,3,3] g32)", () => {
    const data = randn([32, 1, 3, 3], { seed: 5 }).dataSync().slice();
    const w = tensor(data, [32, 1, 3, 3]);
    const x = randn([1, 32, 9, 9], { seed: 6 });
    conv2d(x, w, opts);
    data[0] = -data[0] + 1;
    const y1 = conv2d(x, w, opts);
    expect(cache.lastOutcome).toBe('changed');
    check(y1, x, w);
    w.reshape([32, 9]).dataSync()[200] = 3;
    const y2 = conv2d(x, w, opts);
    expect(cache.lastOutcome).toBe('changed');
    check(y2, x, w);
    // -0 and 0 compare equal as numbers but differ in bits: still a change, never a stale plan.
    data[1] = 0;
    conv2d(x, w, opts);
    data[1] = -0;
    conv2d(x, w, opts);
    expect(cache.lastOutcome).toBe('changed');
  });

  it('sees a changed bias, an added bias and different options (x [2,64,8,8], w [64,2,3,3] g32)', () => {
    const x = randn([2, 64, 8, 8], { seed: 7 });
    const w = randn([64, 2, 3, 3], { seed: 8 });
    const bias = randn([64], { seed: 9 });
    conv2d(x, w, opts);
    const yb = conv2d(x, w, { ...opts, bias });
    expect(cache.lastOutcome).toBe('miss');
    check(yb, x, w, { bias });
    conv2d(x, w, { ...opts, bias });
    bias.dataSync()[63] += 1;
    const yb2 = conv2d(x, w, { ...opts, bias });
    expect(cache.lastOutcome).toBe('changed');
    check(yb2, x, w, { bias });
    const ys = conv2d(x, w, { ...opts, stride: 2 });
    expect(cache.lastOutcome).toBe('miss');
    check(ys, x, w, { stride: 2 });
  });

  it('sync calls compare on the backend (its pool), async ones on the calling thread; a change in any chunk counts (x [1,1024,7,7], w [1024,32,3,3] g32, 1.2 MB)', async () => {
    const x = randn([1, 1024, 7, 7], { seed: 30 });
    const w = randn([1024, 32, 3, 3], { seed: 31 });
    const spy = vi.spyOn(cpuBackend, 'sameValues');
    try {
      conv2d(x, w, opts);
      conv2d(x, w, opts);
      expect(cache.lastOutcome).toBe('hit');
      expect(spy).toHaveBeenCalledTimes(1);
      await conv2dAsync(x, w, opts);
      expect(cache.lastOutcome).toBe('hit');
      expect(spy).toHaveBeenCalledTimes(1);
      // First, a middle and the last element: each in a different chunk of the pool's compare.
      const d = w.dataSync();
      for (const i of [0, d.length >> 1, d.length - 1]) {
        d[i] = d[i] * 2 + 1;
        const y = conv2d(x, w, opts);
        expect(cache.lastOutcome).toBe('changed');
        check(y, x, w);
        conv2d(x, w, opts);
        expect(cache.lastOutcome).toBe('hit');
      }
      expect(spy).toHaveBeenCalledTimes(7);
    } finally {
      spy.mockRestore();
    }
  });

  it('conv2dAsync shares the cache and sees writes between calls (x [1,128,7,7], w [128,4,3,3] g32)', async () => {
    const x = randn([1, 128, 7, 7], { seed: 10 });
    const w = randn([128, 4, 3, 3], { seed: 11 });
    const [a, b] = await Promise.all([conv2dAsync(x, w, opts), conv2dAsync(x, w, opts)]);
    check(a, x, w);
    check(b, x, w);
    w.dataSync()[7] = 2;
    const c = await conv2dAsync(x, w, opts);
    expect(cache.lastOutcome).toBe('changed');
    check(c, x, w);
  });

  it('first and later calls run the same kernel as conv2dPlan: equal bits (x [1,512,14,14], w [512,16,3,3] g32, Winograd)', () => {
    const x = randn([1, 512, 14, 14], { seed: 12 });
    const w = randn([512, 16, 3, 3], { seed: 13 });
    const y1 = conv2d(x, w, opts);
    const y2 = conv2d(x, w, opts);
    expect(cache.lastOutcome).toBe('hit');
    const plan = conv2dPlan(w, opts);
    const yp = plan.run(x);
    plan.dispose();
    check(y1, x, w);
    expect(Buffer.from(y1.dataSync().buffer).equals(Buffer.from(y2.dataSync().buffer))).toBe(true);
    expect(Buffer.from(y1.dataSync().buffer).equals(Buffer.from(yp.dataSync().buffer))).toBe(true);
  });

  it('RESNEXT_CONV2D_CACHE_MB=0 turns the cache off (x [1,32,5,5], w [32,1,3,3] g32)', () => {
    const old = process.env.RESNEXT_CONV2D_CACHE_MB;
    process.env.RESNEXT_CONV2D_CACHE_MB = '0';
    try {
      const x = randn([1, 32, 5, 5], { seed: 14 });
      const w = randn([32, 1, 3, 3], { seed: 15 });
      check(conv2d(x, w, opts), x, w);
      expect(cache.lastOutcome).toBe('off');
      expect(cache.stats().entries).toBe(0);
    } finally {
      if (old === undefined) delete process.env.RESNEXT_CONV2D_CACHE_MB;
      else process.env.RESNEXT_CONV2D_CACHE_MB = old;
    }
  });

  it('stays within RESNEXT_CONV2D_CACHE_MB, least recently used evicted first (w [128,4,3,3] g32, 18 KiB each)', () => {
    const old = process.env.RESNEXT_CONV2D_CACHE_MB;
    process.env.RESNEXT_CONV2D_CACHE_MB = String(100 / 1024);
    try {
      const x = randn([1, 128, 6, 6], { seed: 20 });
      const ws = [0, 1, 2, 3, 4, 5].map((i) => randn([128, 4, 3, 3], { seed: 21 + i }));
      for (const w of ws) check(conv2d(x, w, opts), x, w);
      const st = cache.stats();
      expect(st.bytes).toBeLessThanOrEqual(100 * 1024);
      expect(st.entries).toBeGreaterThan(0);
      expect(st.entries).toBeLessThan(ws.length);
      // The most recent weight is still cached, the first was evicted.
      conv2d(x, ws[5], opts);
      expect(cache.lastOutcome).toBe('hit');
      conv2d(x, ws[0], opts);
      expect(cache.lastOutcome).toBe('miss');
    } finally {
      if (old === undefined) delete process.env.RESNEXT_CONV2D_CACHE_MB;
      else process.env.RESNEXT_CONV2D_CACHE_MB = old;
    }
  });

  it('bad arguments are still reported by name on a warm cache', () => {
    const x = randn([1, 32, 5, 5], { seed: 16 });
    const w = randn([32, 1, 3, 3], { seed: 17 });
    conv2d(x, w, opts);
    expect(() => conv2d(x, w, { ...opts, bias: 3 as never })).toThrow(/bias/);
    expect(() => conv2d(x, w, { ...opts, stride: 0 })).toThrow(RangeError);
  });

  it.skipIf(!fs.existsSync(path.resolve(__dirname, '../dist/cjs/ops/conv2d.js')))(
    'does not keep weights alive: an entry goes when its weight array is collected (child process, --expose-gc)',
    () => {
      const dist = path.resolve(__dirname, '../dist/cjs');
      const script = `
const rx = require(${JSON.stringify(path.join(dist, 'index.js'))});
const { oneShotPlanCache } = require(${JSON.stringify(path.join(dist, 'ops/conv2d.js'))});
const cache = oneShotPlanCache();
(function () {
  const x = rx.randn([1, 64, 6, 6], { seed: 1 });
  for (let i = 0; i < 3; i++) rx.conv2d(x, rx.randn([64, 2, 3, 3], { seed: 2 + i }), { groups: 32, padding: 1 });
})();
const before = cache.stats().entries;
(async () => {
  for (let i = 0; i < 50 && cache.stats().entries > 0; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  process.stdout.write(JSON.stringify({ before, after: cache.stats().entries, bytes: cache.stats().bytes }));
})();
`;
      const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ before: 3, after: 0, bytes: 0 });
    },
  );
});
