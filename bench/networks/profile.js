#!/usr/bin/env node
'use strict';
// Per-layer time of the fused CPU network (same folded convs and kernels the
// forward runs), to see where a whole-network forward spends its time.
// Each conv runs synchronously through its own Conv2dPlan, reps times, on
// the activation shapes of one input; prints the top layers and sums by kind.
// Usage: node bench/networks/profile.js [model=resnext50_32x4d] [batch=1] [reps=20]

const path = require('path');
const rx = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));

const [name = 'resnext50_32x4d', batchArg = '1', repsArg = '20'] = process.argv.slice(2);
const N = Number(batchArg), reps = Number(repsArg);
const model = rx.presets[name]({ seed: 1 });
const sd = model.stateDict();
const layers = model.layers([N, 3, 224, 224]).filter((l) => l.op === 'conv');
const rows = [];
for (const l of layers) {
  const def = [model.architecture.stem, ...model.architecture.stages.flat().flatMap((b) => [b.conv1, b.conv2, b.conv3, ...(b.downsample ? [b.downsample] : [])])].find((c) => c.name === l.name);
  const bnName = def.bn;
  const f = rx.foldBatchNorm(sd.get(`${l.name}.weight`), {
    weight: sd.get(`${bnName}.weight`),
    bias: sd.get(`${bnName}.bias`),
    runningMean: sd.get(`${bnName}.running_mean`),
    runningVar: sd.get(`${bnName}.running_var`),
  });
  const plan = rx.conv2dPlan(f.weight, { bias: f.bias, stride: def.stride, padding: def.padding, groups: def.groups, activation: 'relu', backend: 'cpu' });
  const x = rx.randn(l.inputShape, { seed: 1 });
  const out = rx.zeros(l.outputShape);
  plan.run(x, { out });
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    plan.run(x, { out });
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  rows.push({ name: l.name, groups: def.groups, kernel: def.kernel, in: l.inputShape.join('x'), macs: l.macs, ms: t[t.length >> 1], impl: plan.info().impl });
  plan.dispose();
}
const total = rows.reduce((s, r) => s + r.ms, 0);
const kind = (r) => (r.name === 'conv1' ? 'stem 7x7' : r.groups > 1 ? 'grouped 3x3' : r.kernel === 3 ? 'dense 3x3' : r.name.includes('downsample') ? 'downsample 1x1' : '1x1');
const byKind = {};
for (const r of rows) {
  const k = kind(r);
  byKind[k] = byKind[k] || { ms: 0, macs: 0, n: 0 };
  byKind[k].ms += r.ms;
  byKind[k].macs += r.macs;
  byKind[k].n++;
}
console.log(`${name} N=${N}: sum of per-conv medians ${total.toFixed(2)} ms over ${rows.length} convs`);
for (const [k, v] of Object.entries(byKind)) console.log(`  ${k.padEnd(15)} ${String(v.n).padStart(3)} convs ${v.ms.toFixed(2).padStart(8)} ms ${((2 * v.macs) / v.ms / 1e6).toFixed(1).padStart(7)} GFLOP/s`);
console.log('slowest convs:');
for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 8)) {
  console.log(`  ${r.name.padEnd(22)} g${r.groups} k${r.kernel} in ${r.in.padEnd(16)} ${r.ms.toFixed(3)} ms ${((2 * r.macs) / r.ms / 1e6).toFixed(1)} GFLOP/s ${r.impl}`);
}
