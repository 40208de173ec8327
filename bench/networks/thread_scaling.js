#!/usr/bin/env node
'use strict';
// How each step of a whole-network CPU forward scales with threads: model.profile() at each thread count (and,
// with --variants, under each set of environment variables that a build reads at run time), interleaved round by
// round in one process, each run after the machine is quiet (other processes below 12% of the cores over
// 100 ms, up to 30 s; on a shared machine a run beside another process's work is not a thread-scaling sample).
// Prints per model the medians of the per-round step sums, per kernel (impl) sums with their scaling (time at the
// first thread count / time at the last), and per step of the kernels matched by --impl (default: the NCHW gemm)
// each cell's median and the scaling per variant.
//
// Usage: node bench/networks/thread_scaling.js [--models resnet50,resnext50_32x4d] [--batch 1] [--rounds 7]
//          [--threads 1,2] [--impl gemm] [--variants 'A=1,B=;A=2'] [--dist DIR] [--quiet 1]
// --variants: ';'-separated sets of NAME=VALUE (an empty value unsets NAME), applied to process.env before each
// run (native code that calls getenv per run sees them). --dist DIR: the checkout whose dist/ to load (default
// this one). Writes nothing.
const fs = require('fs');
const path = require('path');

const { arg } = require('./ab_common');

const dist = path.resolve(arg('dist', path.join(__dirname, '..', '..')), 'dist', 'cjs', 'index.js');
const rx = require(dist);
const models = arg('models', 'resnet50,resnext50_32x4d').split(',');
const N = Number(arg('batch', 1));
const rounds = Number(arg('rounds', 7));
const threads = arg('threads', '1,2').split(',').map(Number);
const implRe = new RegExp(arg('impl', 'gemm'));
const variants = arg('variants', '').split(';');
const gate = arg('quiet', '1') !== '0';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
function cpuTimes() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return [f[3] + (f[4] ?? 0), f.reduce((a, b) => a + b, 0)];
}
let busyWaits = 0;
async function quiet() {
  if (!gate || !fs.existsSync('/proc/stat')) return sleep(100);
  for (let i = 0; i < 300; i++) {
    const a = cpuTimes();
    await sleep(100);
    const b = cpuTimes();
    if (1 - (b[0] - a[0]) / (b[1] - a[1]) < 0.12) return;
    busyWaits++;
  }
}
function applyVariant(v) {
  for (const kv of v.split(',').filter(Boolean)) {
    const [k, val] = kv.split('=');
    if (val === undefined || val === '') delete process.env[k];
    else process.env[k] = val;
  }
}

(async () => {
  const cells = [];
  for (const v of variants) for (const t of threads) cells.push({ v, t, label: `${v || 'default'} @${t}` });
  for (const name of models) {
    const model = rx.presets[name]({ seed: 1 });
    const x = rx.randn([N, 3, 224, 224], { seed: 3 });
    for (const c of cells) {
      rx.setNumThreads(c.t);
      applyVariant(c.v);
      await model.profile(x);
      c.steps = [];
      c.sums = [];
    }
    let meta = null;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < cells.length; i++) {
        const c = cells[(i + r) % cells.length];
        rx.setNumThreads(c.t);
        applyVariant(c.v);
        await quiet();
        const p = await model.profile(x);
        meta = p.steps;
        p.steps.forEach((s, j) => (c.steps[j] ??= []).push(s.ms));
        c.sums.push(p.steps.reduce((a, s) => a + s.ms, 0));
      }
    }
    model.dispose?.();
    const t0 = threads[0],
      t1 = threads[threads.length - 1];
    console.log(`\n## ${name}, batch ${N}, ${rounds} rounds (ms, medians; busy waits so far ${busyWaits})\n`);
    console.log(`| | ${cells.map((c) => c.label).join(' | ')} |`);
    console.log(`|---|${cells.map(() => '---:').join('|')}|`);
    console.log(`| sum of steps | ${cells.map((c) => median(c.sums).toFixed(2)).join(' | ')} |`);
    const impls = [...new Set(meta.map((s) => s.impl ?? s.op))];
    for (const impl of impls) {
      const idx = meta.map((s, j) => ((s.impl ?? s.op) === impl ? j : -1)).filter((j) => j >= 0);
      const sum = (c) => median(c.steps[0].map((_, r) => idx.reduce((a, j) => a + c.steps[j][r], 0)));
      const row = cells.map((c) => sum(c).toFixed(2));
      const scal = variants.map((v) => {
        const a = cells.find((c) => c.v === v && c.t === t0),
          b = cells.find((c) => c.v === v && c.t === t1);
        return (sum(a) / sum(b)).toFixed(2);
      });
      console.log(`| ${impl} | ${row.join(' | ')} | scaling ${scal.join(' / ')} |`);
    }
    console.log(`\nper step of ${implRe} (scaling: ${t0} threads / ${t1} threads, per variant)\n`);
    console.log(`| step | input | ${cells.map((c) => c.label).join(' | ')} | scaling |`);
    console.log(`|---|---|${cells.map(() => '---:').join('|')}|---|`);
    meta.forEach((s, j) => {
      if (!implRe.test(s.impl ?? '')) return;
      const m = (c) => median(c.steps[j]);
      const scal = variants.map((v) => {
        const a = cells.find((c) => c.v === v && c.t === t0),
          b = cells.find((c) => c.v === v && c.t === t1);
        return (m(a) / m(b)).toFixed(2);
      });
      console.log(
        `| ${s.name} | ${s.inputShape.slice(1).join('x')} | ${cells.map((c) => m(c).toFixed(3)).join(' | ')} | ${scal.join(' / ')} |`,
      );
    });
  }
})();
