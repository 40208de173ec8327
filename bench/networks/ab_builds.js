#!/usr/bin/env node
'use strict';
// Two builds of the package in one process, step by step inside the network:
// this checkout's dist/ (and its build/Release addon) as "new", and another
// checkout's (--old DIR: a folder holding the base commit's package.json,
// dist/ and build/Release, e.g. `git archive BASE | tar -x -C DIR`, then its
// node-gyp rebuild and scripts/build-ts.js) as "old". Each build loads its own
// addon (two .node files, two thread pools). Per model and batch, each round
// runs model.profile() once per build (same weights and input), in alternating
// order, after a 100 ms pause (a thread pool keeps spinning briefly after a
// run). Prints per kind of step (1x1 convs by input size, +residual and shortcuts apart,
// 3x3s, the rest) the medians of the per-round sums of both builds and the
// median of the per-round ratios old/new (> 1: new faster; robust when the
// machine's speed drifts between rounds), then the whole forward.
// Usage: node bench/networks/ab_builds.js --old DIR [--models resnext50_32x4d,resnet50]
//          [--batch 1,8] [--rounds 9] [--threads 2] [--warm 0|1]
// --warm 1: each timed run follows an untimed one (back to back, as bench:networks), not an idle gap.
// Writes nothing.
const path = require('path');

const { arg, profileRounds, printKinds } = require('./ab_common');

const oldDir = arg('old', null);
if (!oldDir) throw new Error('--old DIR (a built checkout of the base commit) is required');
const builds = [
  { label: 'old', rx: require(path.resolve(oldDir, 'dist', 'cjs', 'index.js')) },
  { label: 'new', rx: require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js')) },
];
const models = arg('models', 'resnext50_32x4d,resnet50').split(',');
const batches = arg('batch', '1,8').split(',').map(Number);
const rounds = Number(arg('rounds', 9));
const threads = Number(arg('threads', 2));
const warm = Number(arg('warm', 0)) > 0;

(async () => {
  for (const b of builds) b.rx.setNumThreads(threads);
  for (const name of models) {
    for (const N of batches) {
      for (const b of builds) {
        b.model = b.rx.presets[name]({ seed: 1 });
        b.x = b.rx.randn([N, 3, 224, 224], { seed: 3 });
        await b.model.profile(b.x);
      }
      for (const b of builds) b.run = () => b.model.profile(b.x);
      const res = await profileRounds(builds, rounds, warm);
      const title = `${name}, batch ${N}, ${threads} threads, ${rounds} rounds (ms; old/new > 1: new faster)`;
      printKinds(title, 'old', 'new', res, (k) => res.impls.get(`new ${k}`) ?? '');
      for (const b of builds) b.model.dispose?.();
    }
  }
})();
