#!/usr/bin/env node
'use strict';
// In-place residuals on and off in one build and one process: two engines of
// the same model (same weights and input), one as the package lowers it (each
// +residual conv whose kernel allows it writes over its residual's buffer,
// lib/models/plan.ts) and one with in-place residuals turned off (the native
// Network's info() patched to report residualInPlace: false while that
// engine is prepared, so its plan keeps a separate output slot). Each round
// runs model.profile() once per engine, in alternating order, after a 100 ms
// pause. Prints per kind of step (as bench/networks/ab_builds.js) the medians
// of the per-round sums and the median of the per-round ratios off/on (> 1:
// in place faster), then the whole forward.
// Usage: node bench/networks/inplace_ab.js [--models resnext50_32x4d,resnet50] [--batch 8,1] [--rounds 9] [--threads 2]
// Needs dist/ (scripts/build-ts.js). Writes nothing.
const path = require('path');
const root = path.join(__dirname, '..', '..');
const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
const { cpuBinding } = require(path.join(root, 'dist', 'cjs', 'binding.js'));

const { arg, profileRounds, printKinds } = require('./ab_common');

const models = arg('models', 'resnext50_32x4d,resnet50').split(',');
const batches = arg('batch', '8,1').split(',').map(Number);
const rounds = Number(arg('rounds', 9));
const threads = Number(arg('threads', 2));

/** Prepares `m` for x with in-place residuals off: the engine is built while info() reports none. */
async function prepareOff(m, x) {
  const b = cpuBinding();
  const Original = b.Network;
  b.Network = class extends Original {
    info() {
      return super.info().map((p) => ({ ...p, residualInPlace: false }));
    }
  };
  try {
    await m.profile(x);
  } finally {
    b.Network = Original;
  }
}

(async () => {
  rx.setNumThreads(threads);
  for (const name of models) {
    for (const N of batches) {
      const x = rx.randn([N, 3, 224, 224], { seed: 3 });
      const on = { label: 'on', model: rx.presets[name]({ seed: 1 }) };
      const off = { label: 'off', model: rx.presets[name]({ seed: 1 }) };
      await on.model.profile(x);
      await prepareOff(off.model, x);
      for (const e of [off, on]) e.run = () => e.model.profile(x);
      const res = await profileRounds([off, on], rounds);
      printKinds(`${name}, batch ${N}, ${threads} threads, ${rounds} rounds (ms; off/on > 1: in place faster)`, 'off', 'on', res);
      on.model.dispose?.();
      off.model.dispose?.();
    }
  }
})();
