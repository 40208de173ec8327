// The two layout conversions the CPU network plan inserts with layout 'auto'
// (NCHW -> NCHW16c/8c after the stem's max pool, back before layer3), timed
// alone as native program steps: median over 9 blocks of 20 runs each, per
// thread count. Writes nothing. Needs dist/ (node scripts/build-ts.js).
//
//   node bench/blocked/reorders.js [--threads 1,2]
'use strict';

const path = require('path');

const root = path.join(__dirname, '..', '..');
const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
const b = require(path.join(root, 'dist', 'cjs', 'binding.js')).cpuBinding();

const i = process.argv.indexOf('--threads');
const threads = i > 0 ? process.argv[i + 1].split(',').map(Number) : [1, 2];

function median(v) {
  const s = [...v].sort((x, y) => x - y);
  return s[(s.length - 1) >> 1];
}

for (const th of threads) {
  rx.setNumThreads(th);
  // A one-conv network whose conv has a blocked kernel: it fixes cb (16 with AVX-512, else 8).
  const net = new b.Network([
    {
      weight: new Float32Array(256),
      shape: [16, 16, 1, 1],
      bias: null,
      groups: 1,
      stride: [1, 1],
      padding: [0, 0, 0, 0],
      activation: 'none',
      blockedGroup: 0,
    },
  ]);
  const cb = net.info()[0].blocked.cb;
  for (const [N, C, H] of [
    [1, 64, 56],
    [1, 512, 28],
    [8, 64, 56],
    [8, 512, 28],
  ]) {
    const n = N * C * H * H;
    const x = new Float32Array(n).fill(1),
      mid = new Float32Array(n),
      back = new Float32Array(n);
    const to = net.addProgram([{ op: 'toBlocked', input: null, inputShape: [N, C, H, H], output: mid, cb }], n);
    const from = net.addProgram([{ op: 'fromBlocked', input: mid, inputShape: [N, C, H, H], output: back, cb }], n);
    const time = (id) => {
      for (let k = 0; k < 20; k++) net.run(id, x);
      const blocks = [];
      for (let j = 0; j < 9; j++) {
        const t0 = process.hrtime.bigint();
        for (let k = 0; k < 20; k++) net.run(id, x);
        blocks.push(Number(process.hrtime.bigint() - t0) / 20e6);
      }
      return median(blocks).toFixed(3);
    };
    console.log(`${th} thread(s) [${N}, ${C}, ${H}, ${H}] cb ${cb}: toBlocked ${time(to)} ms, fromBlocked ${time(from)} ms`);
  }
  net.dispose();
}
