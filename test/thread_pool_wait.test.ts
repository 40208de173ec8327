// The thread pool's idle wait (native/cpu/thread_pool.cc): workers spin for a
// wall-time budget (RESNEXT_POOL_SPIN_US, read once per process) and then
// sleep on a condition variable. With a budget of 0 every run must wake a
// sleeping worker, and with a short one runs land both while workers spin
// and after they fell asleep; a lost wake-up would hang (the child's timeout
// fails the test) and a lost task would leave NaN in the output. Runs in
// child processes through dist/, since the budget is read at startup.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { hasAddon } from './helpers/kernel_cases';

const root = path.resolve(__dirname, '..');
const built = fs.existsSync(path.join(root, 'dist/cjs/index.js'));

const script = `
const rx = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))});
rx.setNumThreads(2);
const x = rx.randn([1, 64, 14, 14], { seed: 1 });
const w = rx.randn([64, 2, 3, 3], { seed: 2 });
const ref = rx.conv2d(x, w, { groups: 32, padding: 1, backend: 'reference' }).dataSync();
const plan = rx.conv2dPlan(w, { groups: 32, padding: 1 });
const out = rx.zeros([1, 64, 14, 14]);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let worst = 0;
for (let i = 0; i < 60; i++) {
  out.dataSync().fill(NaN);
  plan.run(x, { out });
  const y = out.dataSync();
  let d = 0, m = 0;
  for (let j = 0; j < y.length; j++) { d = Math.max(d, Math.abs(y[j] - ref[j]) || (Number.isNaN(y[j]) ? Infinity : 0)); m = Math.max(m, Math.abs(ref[j])); }
  worst = Math.max(worst, d / m);
  // Gaps of 0 to 3 ms: some runs find the worker spinning, others asleep.
  Atomics.wait(sleeper, 0, 0, i % 4);
}
process.stdout.write(JSON.stringify({ worst }));
`;

describe.skipIf(!hasAddon || !built)('thread pool idle wait (RESNEXT_POOL_SPIN_US)', () => {
  it.each([['0'], ['50'], ['bogus']])('RESNEXT_POOL_SPIN_US=%s: 60 runs with gaps, all correct, none hangs', (spin) => {
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, RESNEXT_POOL_SPIN_US: spin },
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).worst).toBeLessThanOrEqual(1e-4);
  });
});
