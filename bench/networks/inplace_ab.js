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

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const models = arg('models', 'resnext50_32x4d,resnet50').split(',');
const batches = arg('batch', '8,1').split(',').map(Number);
const rounds = Number(arg('rounds', 9));
const threads = Number(arg('threads', 2));
const med = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};
const settle = () => new Promise((r) => setTimeout(r, 100));

function kind(s) {
  if (s.op === 'reorder') return 'reorders';
  if (s.op !== 'conv') return s.name;
  const at = `@${s.inputShape[2]}`;
  if (/downsample/.test(s.name)) return `1x1 ${at} (shortcut)`;
  if (/conv3$/.test(s.name)) return `1x1 ${at} +res`;
  if (/conv1$/.test(s.name) && s.name.includes('.')) return `1x1 ${at}`;
  if (/conv2$/.test(s.name)) return `3x3 ${at}`;
  return s.name === 'conv1' ? 'stem' : s.name;
}

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
      const engines = [off, on];
      const sums = { off: [], on: [] };
      const whole = { off: [], on: [] };
      for (let r = 0; r < rounds; r++) {
        for (const e of r % 2 ? [...engines].reverse() : engines) {
          await settle();
          const p = await e.model.profile(x);
          const m = new Map();
          for (const s of p.steps) m.set(kind(s), (m.get(kind(s)) ?? 0) + s.ms);
          sums[e.label].push(m);
          whole[e.label].push(p.totalMs);
        }
      }
      console.log(`\n## ${name}, batch ${N}, ${threads} threads, ${rounds} rounds (ms; off/on > 1: in place faster)\n`);
      console.log('| step kind | off ms | on ms | off/on (median of per-round ratios) |');
      console.log('|---|---:|---:|---:|');
      const kinds = [...sums.on[0].keys()].sort((a, b) => med(sums.off.map((m) => m.get(b))) - med(sums.off.map((m) => m.get(a))));
      for (const k of kinds) {
        const o = sums.off.map((m) => m.get(k) ?? 0),
          n = sums.on.map((m) => m.get(k) ?? 0);
        console.log(`| ${k} | ${med(o).toFixed(2)} | ${med(n).toFixed(2)} | ${med(o.map((v, i) => v / n[i])).toFixed(3)} |`);
      }
      const ratio = med(whole.off.map((v, i) => v / whole.on[i]));
      console.log(`| **whole forward** | ${med(whole.off).toFixed(2)} | ${med(whole.on).toFixed(2)} | ${ratio.toFixed(3)} |`);
      on.model.dispose?.();
      off.model.dispose?.();
    }
  }
})();
