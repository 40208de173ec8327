#!/usr/bin/env node
'use strict';
// What kernel choice by measurement (forward option `tune`) chose for each
// conv of a preset network, after the first forward of one input shape: per
// tuned conv its layout, the candidates, the step time of each inside the
// whole forward (minimum of the timed rounds, ms) and the winner, read from
// model.planInfo()[i].tuning. Convs with one candidate are not listed.
// Usage: node bench/networks/tune_choices.js [--model resnet50] [--batch 1] [--threads 2] [--size 224]
// Needs dist/ (node scripts/build-ts.js); writes nothing.
const path = require('path');

const rx = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
const { arg } = require('./ab_common');

async function main() {
  const name = arg('model', 'resnet50');
  const N = Number(arg('batch', 1)),
    threads = Number(arg('threads', 2)),
    size = Number(arg('size', 224));
  rx.setNumThreads(threads);
  const model = rx.presets[name]({ seed: 1 });
  await model.forward(rx.randn([N, 3, size, size], { seed: 3 }));
  console.log(`${name}, batch ${N}, ${threads} thread(s), ${size}x${size}: ${rx.cpuInfo()?.brand ?? 'no CPU addon'}`);
  console.log('| conv | layout | candidate: step ms | chosen |');
  console.log('|---|---|---|---|');
  for (const p of model.planInfo()) {
    if (!p.tuning) continue;
    const c = p.tuning.choices.at(-1);
    const times = p.tuning.candidates.map((k) => `${k}: ${c.timingsMs[k].toFixed(3)}`).join(', ');
    console.log(`| ${p.name} | ${p.layout} | ${times} | ${c.chosen}${c.source === 'cached' ? ' (cached)' : ''} |`);
  }
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
