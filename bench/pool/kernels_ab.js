#!/usr/bin/env node
'use strict';
// The non-conv layers of ResNet/ResNeXt-50 one by one, two builds in one
// process: this checkout's addon ("new") and another checkout's (--old DIR,
// built: see bench/networks/ab_builds.js), each with its own thread pool.
// Per batch: the stem's max pool [N, 64, 112, 112] 3x3/2 pad 1 (old: NCHW ->
// NCHW, whose output the network then reorders; new: NCHW -> NCHW16c, the
// reorder folded in, and blocked -> blocked), the global average pool
// [N, 2048, 7, 7] (NCHW; new also from NCHW16c) and fc [N, 2048] x
// [1000, 2048]. Each sample is 10 calls; the variants alternate within each
// of 15 rounds after a warm-up; prints median and min per variant (ms per call).
// Usage: node bench/pool/kernels_ab.js --old DIR [--batch 1,8] [--threads 2]   (writes nothing)
const path = require('path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const oldDir = arg('old', null);
if (!oldDir) throw new Error('--old DIR (a built checkout of the base commit) is required');
const load = (dir) => {
  const rx = require(path.resolve(dir, 'dist', 'cjs', 'index.js'));
  const { cpuBinding } = require(path.resolve(dir, 'dist', 'cjs', 'binding.js'));
  rx.setNumThreads(Number(arg('threads', 2)));
  return { rx, b: cpuBinding() };
};
const oldB = load(oldDir),
  newB = load(path.join(__dirname, '..', '..'));
const batches = arg('batch', '1,8').split(',').map(Number);

const rand = (n, seed) => {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
};

function measure(title, variants) {
  for (const v of variants) for (let i = 0; i < 20; i++) v.f();
  const ts = variants.map(() => []);
  for (let r = 0; r < 15; r++) {
    variants.forEach((v, j) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 10; i++) v.f();
      ts[j].push(Number(process.hrtime.bigint() - t0) / 1e7);
    });
  }
  console.log(title);
  variants.forEach((v, j) => {
    const s = ts[j].sort((a, b) => a - b);
    console.log(`  ${v.label.padEnd(34)} median ${s[7].toFixed(3)} ms, min ${s[0].toFixed(3)} ms`);
  });
}

for (const N of batches) {
  const win = [3, 3, 2, 2, 1, 1];
  const xs = [N, 64, 112, 112];
  const x = rand(N * 64 * 112 * 112, 1);
  const xb = new Float32Array(x.length); // blocked input: the values do not matter for the time
  xb.set(x);
  const y1 = new Float32Array(N * 64 * 56 * 56),
    y2 = new Float32Array(N * 64 * 56 * 56);
  measure(`maxPool2d [${xs}] 3x3/2 pad 1`, [
    { label: 'old NCHW -> NCHW', f: () => oldB.b.maxPool2d(x, xs, y1, win) },
    { label: 'new NCHW -> NCHW', f: () => newB.b.maxPool2d(x, xs, y2, win) },
    { label: 'new NCHW -> NCHW16c', f: () => newB.b.maxPool2d(x, xs, y2, win, [0, 16]) },
    { label: 'new NCHW16c -> NCHW16c', f: () => newB.b.maxPool2d(xb, xs, y2, win, [16, 16]) },
  ]);
  const gs = [N, 2048, 7, 7];
  const g = rand(N * 2048 * 49, 2);
  const go1 = new Float32Array(N * 2048),
    go2 = new Float32Array(N * 2048);
  measure(`globalAvgPool [${gs}]`, [
    { label: 'old NCHW', f: () => oldB.b.globalAvgPool(g, gs, go1) },
    { label: 'new NCHW', f: () => newB.b.globalAvgPool(g, gs, go2) },
    { label: 'new NCHW16c', f: () => newB.b.globalAvgPool(g, gs, go2, 16) },
  ]);
  const fx = rand(N * 2048, 3),
    fw = rand(1000 * 2048, 4),
    fb = rand(1000, 5);
  const fo1 = new Float32Array(N * 1000),
    fo2 = new Float32Array(N * 1000);
  measure(`linear [${N}, 2048] x [1000, 2048]`, [
    { label: 'old', f: () => oldB.b.linear(fx, [N, 2048], fw, [1000, 2048], fb, fo1) },
    { label: 'new', f: () => newB.b.linear(fx, [N, 2048], fw, [1000, 2048], fb, fo2) },
  ]);
}
