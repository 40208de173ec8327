#!/usr/bin/env node
'use strict';
// Two forward settings of one network (two CPU layouts, or tune on and off),
// interleaved in one process: each setting has its own model instance (same
// weights, prepared once), each round times one forward of each (after an
// untimed one), in alternating order, and the table gives both medians and
// the median of the per-round ratios (robust when the machine's speed drifts
// between rounds).
// Usage: node bench/blocked/ab_layouts.js [--model resnet50] [--threads 2] [--batch 1] [--rounds 25]
//          [--layouts auto,nchw | --tune on,off]
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
const tune = arg('tune', null);
// Each setting: a label and the forward options it runs with.
const settings = tune
  ? tune.split(',').map((v) => ({ label: `tune ${v}`, options: { tune: v === 'on' } }))
  : arg('layouts', 'auto,nchw')
      .split(',')
      .map((l) => ({ label: l, options: { layout: l } }));
const [A, B] = settings.map((s) => s.label);
const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

(async () => {
  rx.setNumThreads(threads);
  const x = rx.randn([N, 3, 224, 224], { seed: 2 });
  for (const s of settings) {
    s.model = rx.presets[model]({ seed: 1 });
    await s.model.forward(x, s.options);
  }
  const t = { [A]: [], [B]: [] };
  const ratio = [];
  for (let r = 0; r < rounds; r++) {
    const cur = {};
    for (const s of r % 2 ? settings : [...settings].reverse()) {
      await s.model.forward(x, s.options);
      const t0 = process.hrtime.bigint();
      await s.model.forward(x, s.options);
      cur[s.label] = Number(process.hrtime.bigint() - t0) / 1e6;
      t[s.label].push(cur[s.label]);
    }
    ratio.push(cur[B] / cur[A]);
  }
  console.log(
    `${model} batch ${N}, ${threads} thread(s), ${rounds} rounds: ${A} ${med(t[A]).toFixed(1)} ms, ${B} ${med(t[B]).toFixed(1)} ms (medians); median of per-round ${B}/${A}: ${med(ratio).toFixed(3)}`,
  );
})();
