// The malloc policy the CPU addon applies when it loads
// (native/include/resnext/malloc_policy.h): glibc's mmap and trim thresholds
// fixed at 2 and 64 MiB, so that the outputs V8 frees in batches at garbage
// collection are reused by the next one-shot call instead of being returned to
// the kernel and page-faulted back in. Without it, one-shot conv2d() on a
// 128@56 layer (a 1.6 MB output) takes 150-300 minor page faults per call;
// with it, a few. Runs in child processes through dist/: the policy is
// decided once per process, from its environment.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { hasAddon } from './helpers/kernel_cases';

const root = path.resolve(__dirname, '..');
const built = fs.existsSync(path.join(root, 'dist/cjs/index.js'));
const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
const glibc = process.platform === 'linux' && typeof report?.header?.glibcVersionRuntime === 'string';

const script = `
const rx = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))});
rx.setNumThreads(2);
const x = rx.randn([1, 128, 56, 56], { seed: 1 });
const w = rx.randn([128, 4, 3, 3], { seed: 2 });
const opts = { groups: 32, padding: 1 };
const ref = rx.conv2d(x, w, { ...opts, backend: 'reference' }).dataSync();
let worst = 0;
for (let i = 0; i < 20; i++) rx.conv2d(x, w, opts);
const calls = 200;
const f0 = process.resourceUsage().minorPageFault;
for (let i = 0; i < calls; i++) {
  const y = rx.conv2d(x, w, opts).dataSync();
  if (i % 50 === 0) {
    let d = 0, m = 0;
    for (let j = 0; j < y.length; j++) { d = Math.max(d, Math.abs(y[j] - ref[j]) || (Number.isNaN(y[j]) ? Infinity : 0)); m = Math.max(m, Math.abs(ref[j])); }
    worst = Math.max(worst, d / m);
  }
}
const faultsPerCall = (process.resourceUsage().minorPageFault - f0) / calls;
process.stdout.write(JSON.stringify({ allocator: rx.cpuInfo().allocator, faultsPerCall, worst }));
`;

/** The child's environment: ours, without any malloc setting of the caller's, plus `extra`. */
function run(extra: Record<string, string>): {
  allocator: { tuned: boolean; reason: string; mmapThreshold: number; trimThreshold: number };
  faultsPerCall: number;
  worst: number;
} {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of ['GLIBC_TUNABLES', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'RESNEXT_MALLOC_TUNING', 'LD_PRELOAD'])
    delete env[k];
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 120000 });
  expect(r.error).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(!hasAddon || !built || !glibc)('malloc policy (glibc thresholds for reused outputs)', () => {
  it('by default: thresholds 2 / 64 MiB, one-shot conv2d 128@56 g32 reuses its freed outputs (< 60 page faults per call) and stays correct', () => {
    const r = run({});
    expect(r.allocator).toEqual({ tuned: true, reason: '', mmapThreshold: 2 * 2 ** 20, trimThreshold: 64 * 2 ** 20 });
    expect(r.faultsPerCall).toBeLessThan(60);
    expect(r.worst).toBeLessThanOrEqual(1e-4);
  });

  it('RESNEXT_MALLOC_TUNING=0 leaves glibc as it is and says so', () => {
    const r = run({ RESNEXT_MALLOC_TUNING: '0' });
    expect(r.allocator).toEqual({ tuned: false, reason: 'RESNEXT_MALLOC_TUNING=0', mmapThreshold: 0, trimThreshold: 0 });
    expect(r.worst).toBeLessThanOrEqual(1e-4);
  });

  it.each([
    ['GLIBC_TUNABLES', 'glibc.malloc.trim_threshold=1048576', /GLIBC_TUNABLES/],
    ['MALLOC_TRIM_THRESHOLD_', '1048576', /MALLOC_TRIM_THRESHOLD_/],
  ])('a process that set its own thresholds (%s=%s) keeps them', (name, value, reason) => {
    const r = run({ [name]: value });
    expect(r.allocator.tuned).toBe(false);
    expect(r.allocator.reason).toMatch(reason);
  });
});
