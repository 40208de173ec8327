// The addon must never die with SIGILL on an x86-64 CPU without AVX-512.
// valgrind's CPU model has AVX2 but no AVX-512 (its CPUID hides AVX-512 and it
// cannot execute it), so running the package under valgrind is a real
// "older CPU": detection must pick AVX2 kernels, and any AVX-512 instruction
// that leaked into baseline code would stop the process with SIGILL.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
const built = fs.existsSync(path.join(root, 'dist/cjs/index.js'));
if (!hasValgrind) console.log('isa_safety: skipped, valgrind is not installed (apt-get install valgrind)');

const script = `
const r = require('resnext');
const info = r.cpuInfo();
const cases = [
  [[1, 128, 14, 14], [128, 4, 3, 3], { groups: 32, padding: 1 }],
  [[2, 64, 9, 17], [64, 8, 3, 3], { groups: 8, padding: 1, stride: 2 }],
  [[1, 32, 8, 8], [32, 1, 3, 3], { groups: 32, padding: 1 }],
  [[1, 64, 7, 7], [64, 32, 3, 3], { groups: 2, padding: 1 }],
  [[1, 48, 10, 10], [40, 48, 1, 1], {}],
  [[1, 40, 7, 7], [48, 40, 1, 1], {}],
  [[2, 24, 13, 13], [32, 24, 1, 1], { stride: 2 }],
  [[1, 3, 20, 20], [8, 3, 7, 7], { stride: 2, padding: 3 }],
  [[1, 17, 9, 11], [17, 17, 3, 3], { padding: [1, 2, 0, 1], dilation: 2 }],
  [[1, 20, 9, 11], [24, 20, 3, 3], { padding: 1 }],
  [[1, 16, 56, 56], [16, 16, 3, 3], { padding: 1, stride: 2 }],
  [[1, 20, 9, 11], [36, 20, 1, 1], { stride: 2, impl: 'conv1x1_nchw8c_avx2' }],
  [[2, 24, 7, 9], [24, 4, 3, 3], { groups: 6, padding: 1, impl: 'grouped3x3_nchw8c_avx2' }],
  [[1, 32, 5, 6], [32, 16, 3, 3], { groups: 2, padding: 1, stride: 2, impl: 'grouped3x3_nchw8c_avx2' }],
  [[1, 16, 9, 30], [16, 8, 3, 3], { groups: 2, padding: 1, impl: 'grouped3x3_bcast8_avx2' }],
  [[1, 20, 9, 11], [24, 20, 3, 3], { padding: 1, impl: 'winograd43_nchw8c_avx2' }],
  [[2, 16, 10, 7], [16, 16, 3, 3], { padding: 1, impl: 'winograd3x3_nchw8c_avx2' }],
  [[1, 12, 11, 9], [20, 12, 3, 3], { padding: 1, stride: 2, impl: 'conv3x3_nchw8c_avx2' }],
];
let worst = 0; const impls = [];
for (const [xs, ws, o] of cases) {
  const x = r.randn(xs, { seed: 1 }), w = r.randn(ws, { seed: 2 }), bias = r.randn([ws[0]], { seed: 3 });
  const plan = r.conv2dPlan(w, { ...o, bias, activation: 'relu', backend: 'cpu' });
  impls.push(plan.info().impl);
  const y = plan.run(x).dataSync();
  const ref = r.conv2d(x, w, { ...o, bias, activation: 'relu', backend: 'reference' }).dataSync();
  let d = 0, m = 0;
  for (let i = 0; i < y.length; i++) { d = Math.max(d, Math.abs(y[i] - ref[i])); m = Math.max(m, Math.abs(ref[i])); }
  worst = Math.max(worst, d / m);
}
// A whole network in the blocked layout (NCHW8c with AVX2), 12-channel stages leaving padding lanes.
(async () => {
  const m = r.resnext({ depth: 50, cardinality: 3, width: 4, numClasses: 10, seed: 1 });
  const x = r.randn([1, 3, 32, 32], { seed: 4 });
  const y = (await m.forward(x, { backend: 'cpu', layout: 'blocked' })).dataSync();
  const layouts = [...new Set(m.planInfo().map((p) => p.layout))];
  for (const p of m.planInfo()) if (p.layout !== 'NCHW') impls.push(p.impl);
  const ref = (await m.forward(x, { backend: 'reference' })).dataSync();
  let d = 0, mm = 0;
  for (let i = 0; i < y.length; i++) { d = Math.max(d, Math.abs(y[i] - ref[i])); mm = Math.max(mm, Math.abs(ref[i])); }
  console.log(JSON.stringify({ best: info.best, avx512f: info.features.avx512f, worst, impls, network: d / mm, layouts }));
})();
`;

describe.skipIf(!hasValgrind || !built)('no SIGILL without AVX-512 (under valgrind, an AVX2-only CPU)', () => {
  it('detects AVX2, runs every kernel family and a blocked (NCHW8c) network on it, and matches the reference', () => {
    const out = execFileSync('valgrind', ['--tool=none', '-q', process.execPath, '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, RESNEXT_NUM_THREADS: '2' },
    });
    const res = JSON.parse(out.trim().split('\n').pop()!);
    expect(res.avx512f).toBe(false);
    expect(res.best).toBe('avx2');
    for (const impl of res.impls) expect(impl).not.toMatch(/avx512/);
    expect(res.impls).toContain('winograd_avx2');
    expect(res.impls).toContain('winograd_s2_avx2');
    expect(res.impls).toContain('conv1x1_nchw8c_avx2');
    expect(res.impls).toContain('grouped3x3_nchw8c_avx2');
    // 8 output channels per group at stride 2 (the second case), and forced at stride 1.
    expect(res.impls.filter((i: string) => i === 'grouped3x3_bcast8_avx2').length).toBe(2);
    for (const k of ['winograd43_nchw8c_avx2', 'winograd3x3_nchw8c_avx2', 'conv3x3_nchw8c_avx2', 'stem_avx2'])
      expect(res.impls).toContain(k);
    expect(res.worst).toBeLessThanOrEqual(1e-4);
    expect(res.layouts.sort()).toEqual(['NCHW', 'NCHW8c']);
    expect(res.network).toBeLessThanOrEqual(1e-4);
  }, 300_000);
});
