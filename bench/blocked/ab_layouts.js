#!/usr/bin/env node
'use strict';
// Two CPU layouts of one network's whole forward, interleaved in one process:
// each round times one forward of each (after an untimed one), in alternating
// order, and the table gives both medians and the median of the per-round
// ratios (robust when the machine's speed drifts between rounds).
// Usage: node bench/blocked/ab_layouts.js [--model resnet50] [--threads 2] [--batch 1] [--rounds 25] [--layouts auto,nchw]
// Needs `node scripts/build-ts.js`; writes nothing.
const path = require('path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const rx = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
const model = arg('model', 'resnet50');
const threads = Number(arg('threads', 2));
const N = Number(arg('batch', 1));
const rounds = Number(arg('rounds', 25));
const [A, B] = arg('layouts', 'auto,nchw').split(',');
const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

(async () => {
  rx.setNumThreads(threads);
  const m = rx.presets[model]({ seed: 1 });
  const x = rx.randn([N, 3, 224, 224], { seed: 2 });
  const t = { [A]: [], [B]: [] };
  const ratio = [];
  for (let r = 0; r < rounds; r++) {
    const cur = {};
    for (const l of r % 2 ? [A, B] : [B, A]) {
      await m.forward(x, { layout: l });
      const t0 = process.hrtime.bigint();
      await m.forward(x, { layout: l });
      cur[l] = Number(process.hrtime.bigint() - t0) / 1e6;
      t[l].push(cur[l]);
    }
    ratio.push(cur[B] / cur[A]);
  }
  console.log(
    `${model} batch ${N}, ${threads} thread(s), ${rounds} rounds: ${A} ${med(t[A]).toFixed(1)} ms, ${B} ${med(t[B]).toFixed(1)} ms (medians); median of per-round ${B}/${A}: ${med(ratio).toFixed(3)}`,
  );
})();
