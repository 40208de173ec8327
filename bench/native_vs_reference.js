#!/usr/bin/env node
// Native CPU backend vs the pure-TS float64 reference on ResNeXt-50's grouped
// 3x3 layer (x=[1,128,56,56], w=[128,4,3,3], groups 32, pad 1): the foundation
// issue's ">= 10x" check. Steady state: plan created once, output reused,
// warm-up first, median of timed runs. Prints a table and writes
// native_vs_reference.{json,md} to bench/results/tmp/ (untracked), or to
// bench/results/ with --save (the curated set for this machine).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const r = require('..');

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 30;
const cases = [
  { name: 'L1 128@56x56 g32 (4/group)', x: [1, 128, 56, 56], w: [128, 4, 3, 3], groups: 32, padding: 1 },
  { name: 'L2 256@28x28 g32 (8/group)', x: [1, 256, 28, 28], w: [256, 8, 3, 3], groups: 32, padding: 1 },
  { name: 'L1 dense 64@56x56 1x1', x: [1, 64, 56, 56], w: [64, 64, 1, 1], groups: 1, padding: 0 },
];

function median(a) {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function time(fn, n) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return t;
}

const rows = [];
for (const c of cases) {
  const x = r.randn(c.x, { seed: 1 });
  const w = r.randn(c.w, { seed: 2 });
  const opts = { groups: c.groups, padding: c.padding };
  const cpu = r.conv2dPlan(w, { ...opts, backend: 'cpu' });
  const ref = r.conv2dPlan(w, { ...opts, backend: 'reference' });
  const outCpu = r.zeros(cpu.outputShape(c.x));
  const outRef = r.zeros(ref.outputShape(c.x));
  ref.run(x, { out: outRef });
  cpu.run(x, { out: outCpu });
  let maxDiff = 0,
    maxRef = 0;
  const a = outCpu.dataSync(),
    b = outRef.dataSync();
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  for (let i = 0; i < 5; i++) cpu.run(x, { out: outCpu });
  const tCpu = median(time(() => cpu.run(x, { out: outCpu }), runs));
  const tRef = median(time(() => ref.run(x, { out: outRef }), Math.max(3, Math.min(7, runs))));
  const [N, K, P, Q] = cpu.outputShape(c.x);
  const flop = 2 * N * K * P * Q * c.w[1] * c.w[2] * c.w[3];
  rows.push({
    case: c.name,
    impl: cpu.info().impl,
    cpuMs: tCpu,
    referenceMs: tRef,
    speedup: tRef / tCpu,
    cpuGflops: flop / tCpu / 1e6,
    referenceGflops: flop / tRef / 1e6,
    relErr: maxDiff / maxRef,
  });
}

const f = (v, d = 2) => v.toFixed(d);
const header = '| case | cpu kernel | cpu ms | reference ms | speedup | cpu GFLOP/s | reference GFLOP/s | rel. error |';
const lines = [header, '|---|---|---|---|---|---|---|---|'];
for (const x of rows) {
  lines.push(
    `| ${x.case} | ${x.impl} | ${f(x.cpuMs, 3)} | ${f(x.referenceMs, 1)} | **${f(x.speedup, 1)}x** | ${f(x.cpuGflops, 1)} | ${f(x.referenceGflops, 2)} | ${x.relErr.toExponential(1)} |`,
  );
}
const info = r.cpuInfo();
const meta = `Machine: ${require(path.join(__dirname, '..', 'dist', 'cjs', 'cli', 'machine.js')).cpuLabel()}, ${info ? info.threads : 1} threads, ISA ${info ? info.cap : 'n/a'}; Node ${process.version}; ${new Date().toISOString()}; median of ${runs} runs (reference: fewer), steady state (plan and output reused).`;
const md = `# Native CPU vs TS reference (batch 1, fp32)\n\n${meta}\n\n${lines.join('\n')}\n\nReproduce: \`npm run bench:native-vs-ref\`\n`;
console.log(md);
const dir = path.join(__dirname, 'results', ...(process.argv.includes('--save') ? [] : ['tmp']));
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'native_vs_reference.md'), md);
fs.writeFileSync(path.join(dir, 'native_vs_reference.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), dir)}/native_vs_reference.{md,json}`);
