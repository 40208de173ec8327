#!/usr/bin/env node
// The cost of the async buffer rule (docs/safety.md): runAsync copies its
// input into native memory when it starts and its output back when it
// settles. A/B in one process, interleaved: this build's ConvPlan.runAsync
// against another build's (BASE_ADDON=path/to/resnext.node, e.g. one without
// the copies) and against this build's synchronous run(), on
// x=[4,256,56,56] w=[256,8,3,3] groups 32 (ResNeXt-50's first stage conv2,
// batch 4; 12.8 MB in, 12.8 MB out). Prints medians over ROUNDS rounds.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cur = require(path.join(root, 'build', 'Release', 'resnext.node'));
const base = process.env.BASE_ADDON ? require(path.resolve(process.env.BASE_ADDON)) : null;
const rounds = Number(process.env.ROUNDS || 15);

const [N, C, H, W, K, G] = [4, 256, 56, 56, 256, 32];
const w = new Float32Array(K * (C / G) * 9).map(() => Math.random() - 0.5);
const x = new Float32Array(N * C * H * W).map(() => Math.random());
const y = new Float32Array(N * K * H * W);
const opts = { groups: G, stride: [1, 1], dilation: [1, 1], padding: [1, 1, 1, 1], activation: 'relu' };
const plans = { async: new cur.ConvPlan(w, [K, C / G, 3, 3], null, opts) };
if (base) plans.baseAsync = new base.ConvPlan(w, [K, C / G, 3, 3], null, opts);

const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
(async () => {
  const t = { sync: [], async: [], baseAsync: [] };
  for (let i = 0; i < rounds + 2; i++) {
    let t0 = process.hrtime.bigint();
    plans.async.run(x, [N, C, H, W], y, null);
    const sync = Number(process.hrtime.bigint() - t0) / 1e6;
    t0 = process.hrtime.bigint();
    await plans.async.runAsync(x, [N, C, H, W], y, null);
    const asyncMs = Number(process.hrtime.bigint() - t0) / 1e6;
    let baseMs = NaN;
    if (base) {
      t0 = process.hrtime.bigint();
      await plans.baseAsync.runAsync(x, [N, C, H, W], y, null);
      baseMs = Number(process.hrtime.bigint() - t0) / 1e6;
    }
    if (i < 2) continue; // warm-up
    t.sync.push(sync);
    t.async.push(asyncMs);
    t.baseAsync.push(baseMs);
  }
  const m = { sync: median(t.sync), async: median(t.async), baseAsync: base ? median(t.baseAsync) : null };
  console.log(JSON.stringify({ shape: 'x=[4,256,56,56] w=[256,8,3,3] g=32', rounds, threads: cur.getNumThreads(), medianMs: m }));
})();
