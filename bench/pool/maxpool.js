#!/usr/bin/env node
'use strict';
// The stem's max pool (3x3, stride 2, pad 1 on [N, 64, 112, 112]) through the
// public maxPool2d with a reused output, batch 1 and 8: median and min of 15
// samples of 10 calls each, after a warm-up. With --caps, the samples
// interleave the listed addon ISA caps in one process (avx512: the AVX-512
// 3x3/2 plane kernel; avx2: the generic kernel, which still runs its AVX-512
// clone on an AVX-512 CPU). Needs `node scripts/build-ts.js`.
// Usage: node bench/pool/maxpool.js [--threads 2] [--pkg DIR] [--caps avx512,avx2]   (writes nothing)
const path = require('path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const pkg = path.resolve(arg('pkg', path.join(__dirname, '..', '..')));
const rx = require(path.join(pkg, 'dist', 'cjs', 'index.js'));
const { cpuBinding } = require(path.join(pkg, 'dist', 'cjs', 'binding.js'));
const threads = Number(arg('threads', 2));
const caps = arg('caps', '') === '' ? [null] : arg('caps', '').split(',');
rx.setNumThreads(threads);
const setCap = (cap) => cap !== null && cpuBinding().setIsaCap(cap);
for (const N of [1, 8]) {
  const x = rx.randn([N, 64, 112, 112], { seed: 1 });
  const out = rx.zeros([N, 64, 56, 56]);
  const f = () => rx.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, out });
  for (const cap of caps) {
    setCap(cap);
    for (let i = 0; i < 20; i++) f();
  }
  const ts = caps.map(() => []);
  for (let r = 0; r < 15; r++) {
    caps.forEach((cap, j) => {
      setCap(cap);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 10; i++) f();
      ts[j].push(Number(process.hrtime.bigint() - t0) / 1e7);
    });
  }
  caps.forEach((cap, j) => {
    const s = ts[j].sort((a, b) => a - b);
    console.log(
      `maxPool2d [${N}, 64, 112, 112] 3x3/2 pad 1, ${threads} thread(s)${cap === null ? '' : `, ISA cap ${cap}`}: median ${s[7].toFixed(3)} ms, min ${s[0].toFixed(3)} ms`,
    );
  });
}
setCap(caps[0]);
