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
//          [--batch 1,8] [--rounds 9] [--threads 2]
// Writes nothing.
const path = require('path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
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
const med = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};
const settle = () => new Promise((r) => setTimeout(r, 100));

// The kind of a profile step: 1x1 convs by input size (conv1; conv3, which adds the residual; the projection
// shortcut), the rest by name.
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

(async () => {
  for (const b of builds) b.rx.setNumThreads(threads);
  for (const name of models) {
    for (const N of batches) {
      for (const b of builds) {
        b.model = b.rx.presets[name]({ seed: 1 });
        b.x = b.rx.randn([N, 3, 224, 224], { seed: 3 });
        await b.model.profile(b.x);
      }
      const sums = { old: [], new: [] }; // per round: Map kind -> ms
      const whole = { old: [], new: [] };
      const impls = new Map();
      for (let r = 0; r < rounds; r++) {
        for (const b of r % 2 ? [...builds].reverse() : builds) {
          await settle();
          const p = await b.model.profile(b.x);
          const m = new Map();
          for (const s of p.steps) {
            const k = kind(s);
            m.set(k, (m.get(k) ?? 0) + s.ms);
            if (s.impl) impls.set(`${b.label} ${k}`, s.impl);
          }
          sums[b.label].push(m);
          whole[b.label].push(p.totalMs);
        }
      }
      console.log(`\n## ${name}, batch ${N}, ${threads} threads, ${rounds} rounds (ms; old/new > 1: new faster)\n`);
      console.log('| step kind | new impl | old ms | new ms | old/new (median of per-round ratios) |');
      console.log('|---|---|---:|---:|---:|');
      const kinds = [...sums.new[0].keys()].sort((a, b) => med(sums.old.map((m) => m.get(b))) - med(sums.old.map((m) => m.get(a))));
      for (const k of kinds) {
        const o = sums.old.map((m) => m.get(k) ?? 0),
          n = sums.new.map((m) => m.get(k) ?? 0);
        const ratio = med(o.map((v, i) => v / n[i]));
        console.log(`| ${k} | ${impls.get(`new ${k}`) ?? ''} | ${med(o).toFixed(2)} | ${med(n).toFixed(2)} | ${ratio.toFixed(3)} |`);
      }
      const ratio = med(whole.old.map((v, i) => v / whole.new[i]));
      console.log(`| **whole forward** | | ${med(whole.old).toFixed(2)} | ${med(whole.new).toFixed(2)} | ${ratio.toFixed(3)} |`);
      for (const b of builds) b.model.dispose?.();
    }
  }
})();
