#!/usr/bin/env node
// Times whole resnext50_32x4d forwards on our GPU backends (the package's
// model.forward with backend 'cuda' or 'cudnn', from dist/cjs: run
// `npm run build:ts` or carry the packed dist), for the issue's network
// targets against bench_torch.py --network (PyTorch eager, channels_last):
//   batch 1, float32 and float16, eager and CUDA graph (graph: true): time per
//     forward by the same method as bench_torch.py's time_runs (queue many on
//     the stream, synchronize once, median of repeats), plus the latency of
//     one forward awaited to host logits (median of 20);
//   batch 256, float16: images per second (median of 3 forwards, each waited).
// Configurations: 'cuda' (every conv on our kernels), 'cuda+cudnnDense'
// (denseConvs: 'cudnn': grouped convs ours, ungrouped on cuDNN) and 'cudnn'.
// The input stays on the device (x.to('cuda')), as PyTorch's does. Weights are
// the seeded random initialisation (timing does not depend on them). Also
// cross-checks cuda vs cudnn logits at batch 1 float32, and graph vs eager.
// The eager batch-1 items keep model.planInfo() (each conv's kernel, cuDNN's
// algorithm and math type per shape, fused or not).
// Writes JSON after every item, so a time cap still leaves what was measured.
//
//   node bench/gpu/bench_network.js --out network.json [--budget 150] [--quick]
//   --tiny: a C=2, d=2 model at 32x32 and batch 4 instead of 256, to dry-run
//   the script without a GPU (RESNEXT_CUDA_ADDON=test/helpers/fake_cuda_addon.js).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const out = opt('--out', 'network.json');
const budgetS = Number(opt('--budget', '150'));
const quick = args.includes('--quick');
const tiny = args.includes('--tiny');
const side = tiny ? 32 : 224;
const bigBatch = tiny ? 4 : 256;
const t0 = Date.now();
const elapsed = () => (Date.now() - t0) / 1000;

const dist = path.resolve(__dirname, '..', '..', 'dist', 'cjs', 'index.js');
const result = { started: new Date().toISOString(), items: [], crossChecks: [], skipped: [] };
const save = () => fs.writeFileSync(out, JSON.stringify(result, null, 1));

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function relErr(a, b) {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

async function main() {
  if (!fs.existsSync(dist)) {
    result.error = `${path.relative(process.cwd(), dist)} not found: run npm run build:ts (or carry the packed dist)`;
    save();
    console.log(result.error);
    return;
  }
  const lib = require(dist);
  const avail = lib
    .backends()
    .filter((b) => b.device === 'cuda' && b.available)
    .map((b) => b.name);
  result.backends = lib.backends().filter((b) => b.device === 'cuda');
  if (avail.length === 0) {
    result.error = `no GPU backend available: ${result.backends.map((b) => `${b.name}: ${b.reason}`).join('; ')}`;
    save();
    console.log(result.error);
    return;
  }
  const model = tiny ? lib.resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 4, seed: 1 }) : lib.resnext50_32x4d({ seed: 1 });
  result.model = tiny ? 'tiny dry run (C=2, d=2, 32x32)' : 'resnext50_32x4d, 224x224';

  // bench_torch.py's time_runs: warm up, grow the count to >20 ms, median of repeats.
  async function timeQueued(fn) {
    for (let i = 0; i < 3; i++) await fn();
    await lib.synchronize();
    let iters = 10;
    for (;;) {
      const s = performance.now();
      for (let i = 0; i < iters; i++) await fn();
      await lib.synchronize();
      const ms = performance.now() - s;
      if (ms > 20 || iters >= 5000) break;
      iters = Math.min(5000, Math.floor(iters * Math.max(2, 25 / Math.max(ms, 0.01))) + 1);
    }
    const reps = [];
    for (let r = 0; r < (quick ? 3 : 5); r++) {
      const s = performance.now();
      for (let i = 0; i < iters; i++) await fn();
      await lib.synchronize();
      reps.push(((performance.now() - s) * 1e3) / iters);
    }
    return { us: median(reps), min_us: Math.min(...reps), max_us: Math.max(...reps), iters };
  }

  const configs = [
    // 'cuda' with every conv on our kernels (the default sends the ungrouped ones to cuDNN when it is there).
    { label: 'cuda', be: 'cuda', opts: { denseConvs: 'cuda' } },
    { label: 'cuda+cudnnDense', be: 'cuda', opts: { denseConvs: 'cudnn' }, needs: 'cudnn' },
    { label: 'cudnn', be: 'cudnn', opts: {} },
  ].filter((c) => avail.includes(c.be) && (!c.needs || avail.includes(c.needs)));
  const logits = new Map();
  for (const { label, be, opts } of configs) {
    for (const dtype of ['float32', 'float16']) {
      const x = lib.randn([1, 3, side, side], { seed: 2 }).to('cuda', { dtype });
      for (const graph of [false, true]) {
        const name = `${label} batch1 ${dtype} ${graph ? 'graph' : 'eager'}`;
        if (elapsed() > budgetS - 20) {
          result.skipped.push(`${name}: time budget`);
          continue;
        }
        try {
          const prep = performance.now();
          const first = await model.forward(x, { backend: be, dtype, graph, ...opts });
          const firstMs = performance.now() - prep;
          const host = await first.data();
          first.dispose();
          logits.set(name, host);
          const queued = await timeQueued(async () => (await model.forward(x, { backend: be, dtype, graph, ...opts })).dispose());
          const lat = [];
          for (let i = 0; i < 20; i++) {
            const s = performance.now();
            const y = await model.forward(x, { backend: be, dtype, graph, ...opts });
            await y.data();
            lat.push((performance.now() - s) * 1e3);
            y.dispose();
          }
          const item = {
            name,
            backend: label,
            batch: 1,
            dtype,
            graph,
            first_ms: firstMs,
            ...queued,
            latency_us: median(lat),
            latency_min_us: Math.min(...lat),
          };
          // Each conv's kernel, and for cuDNN its algorithm, math type and whether the epilogue was fused: where a
          // float16 forward spends more than a float32 one shows here.
          if (!graph) item.plans = model.planInfo().map((p) => ({ name: p.name, impl: p.impl, detail: p.detail }));
          result.items.push(item);
          console.log(
            `${name}: ${(queued.us / 1e3).toFixed(3)} ms queued, ${(item.latency_us / 1e3).toFixed(3)} ms awaited (first call incl. preparation ${firstMs.toFixed(0)} ms)`,
          );
        } catch (err) {
          result.items.push({ name, backend: label, batch: 1, dtype, graph, error: String(err && err.message ? err.message : err) });
          console.log(`${name}: ERROR ${err && err.message}`);
        }
        save();
      }
    }
  }
  for (const { label, be, opts } of configs) {
    const name = `${label} batch${bigBatch} float16 eager`;
    if (elapsed() > budgetS - 30) {
      result.skipped.push(`${name}: time budget`);
      continue;
    }
    try {
      const x = lib.randn([bigBatch, 3, side, side], { seed: 3 }).to('cuda', { dtype: 'float16' });
      const s0 = performance.now();
      (await model.forward(x, { backend: be, dtype: 'float16', ...opts })).dispose();
      await lib.synchronize();
      const firstMs = performance.now() - s0;
      const reps = [];
      for (let r = 0; r < 3; r++) {
        const s = performance.now();
        (await model.forward(x, { backend: be, dtype: 'float16', ...opts })).dispose();
        await lib.synchronize();
        reps.push((performance.now() - s) * 1e3);
      }
      const us = median(reps);
      result.items.push({
        name,
        backend: label,
        batch: bigBatch,
        dtype: 'float16',
        graph: false,
        first_ms: firstMs,
        us,
        min_us: Math.min(...reps),
        images_per_s: bigBatch / (us * 1e-6),
        peak_bytes: lib.memory().peakBytes,
      });
      console.log(`${name}: ${(us / 1e3).toFixed(2)} ms, ${(bigBatch / (us * 1e-6)).toFixed(0)} images/s`);
      x.dispose();
    } catch (err) {
      result.items.push({
        name,
        backend: label,
        batch: bigBatch,
        dtype: 'float16',
        graph: false,
        error: String(err && err.message ? err.message : err),
      });
      console.log(`${name}: ERROR ${err && err.message}`);
    }
    save();
  }
  // Correctness on the real network: both backends agree; the graph replays the eager forward.
  const pairs = [];
  for (const c of configs.slice(1)) pairs.push(['cuda batch1 float32 eager', `${c.label} batch1 float32 eager`]);
  for (const c of configs)
    for (const dt of ['float32', 'float16']) pairs.push([`${c.label} batch1 ${dt} graph`, `${c.label} batch1 ${dt} eager`]);
  for (const [a, b] of pairs) {
    if (logits.has(a) && logits.has(b)) {
      const e = relErr(logits.get(a), logits.get(b));
      result.crossChecks.push({ a, b, relErr: e });
      console.log(`cross-check ${a} vs ${b}: normwise relative error ${e.toExponential(2)}`);
    }
  }
  result.seconds = elapsed();
  save();
  model.dispose();
}

main().catch((err) => {
  result.error = String(err && err.stack ? err.stack : err);
  save();
  console.error(err);
  process.exitCode = 1;
});
