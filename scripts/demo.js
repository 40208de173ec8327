#!/usr/bin/env node
// A small demo: ResNeXt-50's grouped 3x3 layer (128 channels, 56x56, 32
// groups of 4) on every available backend, checked against the float64
// reference, with timings.
'use strict';
const r = require('..');

console.log('backends:');
for (const b of r.backends()) console.log(`  ${b.name.padEnd(10)} ${b.available ? 'available' : `unavailable: ${b.reason}`}`);
const info = r.cpuInfo();
if (info) console.log(`cpu: ${info.brand}, ISA ${info.cap}, ${info.threads} threads`);

const x = r.randn([1, 128, 56, 56], { seed: 1 });
const w = r.randn([128, 4, 3, 3], { seed: 2 });
const opts = { groups: 32, padding: 1 };
const t0 = performance.now();
const ref = r.conv2d(x, w, { ...opts, backend: 'reference' });
const refMs = performance.now() - t0;
console.log(`\nconv2d x=[1,128,56,56] w=[128,4,3,3] groups=32 pad=1 -> [${ref.shape.join(', ')}]`);
console.log(`  reference  ${refMs.toFixed(1)} ms`);
for (const b of r.backends()) {
  if (!b.available || b.name === 'reference' || b.device !== 'cpu') continue;
  const plan = r.conv2dPlan(w, { ...opts, backend: b.name });
  const out = r.zeros(plan.outputShape(x.shape));
  for (let i = 0; i < 5; i++) plan.run(x, { out });
  const times = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    plan.run(x, { out });
    times.push(performance.now() - s);
  }
  times.sort((a, c) => a - c);
  const a = out.dataSync(),
    c = ref.dataSync();
  let maxDiff = 0,
    maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - c[i]));
    maxRef = Math.max(maxRef, Math.abs(c[i]));
  }
  const ms = times[10];
  console.log(
    `  ${b.name.padEnd(10)} ${ms.toFixed(3)} ms (${(refMs / ms).toFixed(0)}x the reference, kernel ${plan.info().impl}), relative error ${(maxDiff / maxRef).toExponential(1)}`,
  );
}
r.conv2dAsync(x, w, opts).then((y) => console.log(`\nconv2dAsync resolved off the event loop: [${y.shape.join(', ')}]`));
