#!/usr/bin/env node
'use strict';
// The network stem (3 -> 64, 7x7, stride 2, pad 3, bias + ReLU, 224x224 in)
// through conv2dPlan with each named CPU kernel forced, batch 1 and 8, in one
// process: rounds interleave the kernels (each round times 10 runs of each
// into a reused output, after a warm-up); prints the median and min per
// kernel, and the median process CPU time per run (with --threads 1 a measure
// that other processes' load on a shared machine disturbs less than wall time;
// a spinning pool thread counts too). Needs `node scripts/build-ts.js`.
// Usage: node bench/stem/stem.js [--threads 2] [--rounds 15] [--impls stem_avx512,gemm_avx512]   (writes nothing)
const path = require('path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const rx = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
const threads = Number(arg('threads', 2));
const rounds = Number(arg('rounds', 15));
const impls = arg('impls', 'stem_avx512,gemm_avx512,stem_avx2,gemm_avx2').split(',');
rx.setNumThreads(threads);
const w = rx.randn([64, 3, 7, 7], { seed: 1 });
const bias = rx.randn([64], { seed: 2 });
for (const N of [1, 8]) {
  const x = rx.randn([N, 3, 224, 224], { seed: 3 });
  const out = rx.zeros([N, 64, 112, 112]);
  const plans = impls.map((impl) => rx.conv2dPlan(w, { stride: 2, padding: 3, bias, activation: 'relu', backend: 'cpu', impl }));
  const ts = impls.map(() => []);
  const cpu = impls.map(() => []);
  for (const p of plans) for (let i = 0; i < 3; i++) p.run(x, { out });
  for (let r = 0; r < rounds; r++) {
    plans.forEach((p, j) => {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 10; i++) p.run(x, { out });
      ts[j].push(Number(process.hrtime.bigint() - t0) / 1e7);
      const c = process.cpuUsage(c0);
      cpu[j].push((c.user + c.system) / 1e4);
    });
  }
  impls.forEach((impl, j) => {
    const s = ts[j].sort((a, b) => a - b);
    const u = cpu[j].sort((a, b) => a - b);
    console.log(
      `stem [${N}, 3, 224, 224] -> [${N}, 64, 112, 112] ${impl}, ${threads} thread(s): median ${s[s.length >> 1].toFixed(3)} ms, min ${s[0].toFixed(3)} ms; process CPU time median ${u[u.length >> 1].toFixed(3)} ms`,
    );
  });
  plans.forEach((p) => p.dispose());
}
