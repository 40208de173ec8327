#!/usr/bin/env node
'use strict';
// The stem's max pool (3x3, stride 2, pad 1 on [N, 64, 112, 112]) through the
// public maxPool2d with a reused output, batch 1 and 8: median and min of 15
// samples of 10 calls each, after a warm-up. Needs `node scripts/build-ts.js`.
// Usage: node bench/pool/maxpool.js [--threads 2] [--pkg DIR]   (writes nothing)
const path = require('path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const rx = require(path.join(path.resolve(arg('pkg', path.join(__dirname, '..', '..'))), 'dist', 'cjs', 'index.js'));
const threads = Number(arg('threads', 2));
rx.setNumThreads(threads);
for (const N of [1, 8]) {
  const x = rx.randn([N, 64, 112, 112], { seed: 1 });
  const out = rx.zeros([N, 64, 56, 56]);
  const f = () => rx.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, out });
  for (let i = 0; i < 20; i++) f();
  const ts = [];
  for (let r = 0; r < 15; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) f();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e7);
  }
  ts.sort((a, b) => a - b);
  console.log(
    `maxPool2d [${N}, 64, 112, 112] 3x3/2 pad 1, ${threads} thread(s): median ${ts[7].toFixed(3)} ms, min ${ts[0].toFixed(3)} ms`,
  );
}
