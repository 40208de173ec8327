#!/usr/bin/env node
// Times our kernels ('cuda') and cuDNN ('cudnn', through our addon) on the
// layers of layers.js for each batch and dtype, straight on the CUDA addon's
// exports (no TS build needed on the GPU host). Each timing queues `iters`
// runs on the stream and waits once: the time per run includes the N-API call
// that enqueues it, as a user of the package pays it. Median of 5 repeats.
// host_us is the enqueue cost alone (N-API call + the backend's host work).
// Then resnext50_32x4d's ungrouped convs (layers.js DENSE) on cuDNN at batch 1
// in float32 and float16.
// Also writes batch-1 float32 inputs/weights/outputs for the PyTorch cross-check.
// info() of each plan is kept, with the kernel that runs at this batch
// (`kernel`: the plan's batch-1 kernel, or the one its detail names for
// batch >= N).
//
//   node bench/gpu/bench_layers.js --out ours.json --xcheck DIR [--quick]
//   RESNEXT_GPU_BENCH_TINY=1 (run.sh --dry-run): small layers, two runs each, for the fake addon
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { LAYERS, DENSE, BATCHES, DTYPES, outHW, minBytes, macs } = require('./layers');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const outFile = opt('--out', 'ours.json');
const xcheckDir = opt('--xcheck', null);
const quick = args.includes('--quick');
const root = path.resolve(__dirname, '..', '..');
const addonPath = process.env.RESNEXT_CUDA_ADDON || path.join(root, 'build-cuda', 'Release', 'resnext_cuda.node');
const b = require(addonPath);
const probe = b.probe();
if (!probe.ok) {
  console.error(`bench_layers: GPU unusable: ${probe.reason}`);
  fs.writeFileSync(outFile, JSON.stringify({ probe, results: [] }, null, 1));
  process.exit(1);
}
const DT = { float32: 0, float16: 1, bfloat16: 2 };

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
function randArray(n, seed) {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

function median(v) {
  const s = [...v].sort((a, c) => a - c);
  return s[Math.floor(s.length / 2)];
}

const tiny = process.env.RESNEXT_GPU_BENCH_TINY === '1';

function timeRuns(run) {
  if (tiny) {
    // Dry run against the fake addon: two runs, one repeat.
    const t0 = process.hrtime.bigint();
    run();
    run();
    b.synchronize();
    const us = Number(process.hrtime.bigint() - t0) / 2e3;
    return { us, min_us: us, max_us: us, iters: 2, host_us: us };
  }
  for (let i = 0; i < 5; i++) run();
  b.synchronize();
  // Calibrate: enough runs for ~20 ms per repeat.
  let iters = 10;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) run();
    b.synchronize();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > 20 || iters >= 20000) break;
    iters = Math.min(20000, Math.ceil(iters * Math.max(2, 25 / Math.max(ms, 0.01))));
  }
  const reps = [];
  for (let r = 0; r < (quick ? 3 : 5); r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) run();
    b.synchronize();
    reps.push(Number(process.hrtime.bigint() - t0) / 1e3 / iters);
  }
  // Host cost per call: enqueue a few hundred runs (too few to fill the launch
  // queue and block) and time only the calls. When it is close to `us`, the
  // layer is host-bound.
  const hostN = Math.min(iters, 200);
  const h0 = process.hrtime.bigint();
  for (let i = 0; i < hostN; i++) run();
  const host_us = Number(process.hrtime.bigint() - h0) / 1e3 / hostN;
  b.synchronize();
  return { us: median(reps), min_us: Math.min(...reps), max_us: Math.max(...reps), iters, host_us };
}

// The kernel a run of this batch takes: plans that keep a second kernel for
// large batches say so in their detail ("batch >= 8 runs grouped_mma_pipe").
function kernelAtBatch(info, batch) {
  const m = /batch >= (\d+) runs (\w+)/.exec(info.detail || '');
  return m && batch >= Number(m[1]) ? m[2] : info.impl;
}

const results = [];
const xcheck = [];
if (xcheckDir) fs.mkdirSync(xcheckDir, { recursive: true });

for (const l of LAYERS) {
  const cg = l.c / l.g;
  const wHost = randArray(l.c * cg * 9, 7);
  for (const batch of BATCHES) {
    const p = outHW(l);
    const xShape = [batch, l.c, l.hw, l.hw];
    const xHost = randArray(batch * l.c * l.hw * l.hw, 11 + batch);
    for (const dtype of DTYPES) {
      const x = new b.DeviceBuffer(xHost.length, DT[dtype]);
      x.upload(xHost, xShape);
      const y = new b.DeviceBuffer(batch * l.c * p * p, DT[dtype]);
      for (const impl of ['cuda', 'cudnn']) {
        const row = { layer: l.name, batch, dtype, impl, c: l.c, groups: l.g, hw: l.hw, stride: l.stride };
        let plan;
        try {
          plan = new b.CudaConvPlan(wHost, [l.c, cg, 3, 3], null, {
            groups: l.g,
            stride: [l.stride, l.stride],
            dilation: [1, 1],
            padding: [1, 1, 1, 1],
            activation: 'none',
            dtype: DT[dtype],
            impl,
          });
          const t = timeRuns(() => plan.run(x, xShape, y, null));
          const info = plan.info();
          Object.assign(row, t, {
            gbps: minBytes(l, batch, dtype) / (t.us * 1e3),
            tflops: (2 * macs(l, batch)) / (t.us * 1e6),
            info,
            kernel: kernelAtBatch(info, batch),
          });
          if (xcheckDir && batch === 1 && dtype === 'float32') {
            const base = `${l.name}.${impl}`;
            fs.writeFileSync(path.join(xcheckDir, `${base}.y.f32`), Buffer.from(y.download([batch, l.c, p, p]).buffer));
            if (impl === 'cuda') {
              fs.writeFileSync(path.join(xcheckDir, `${l.name}.x.f32`), Buffer.from(xHost.buffer));
              fs.writeFileSync(path.join(xcheckDir, `${l.name}.w.f32`), Buffer.from(wHost.buffer));
            }
            xcheck.push({
              layer: l.name,
              impl,
              x: [batch, l.c, l.hw, l.hw],
              w: [l.c, cg, 3, 3],
              y: [batch, l.c, p, p],
              groups: l.g,
              stride: l.stride,
              padding: 1,
            });
          }
        } catch (err) {
          row.error = String(err && err.message ? err.message : err);
        } finally {
          if (plan) plan.dispose();
        }
        results.push(row);
        console.log(
          `${row.layer.padEnd(16)} N=${String(batch).padEnd(3)} ${dtype.padEnd(8)} ${impl.padEnd(6)} ${row.error ? 'ERROR ' + row.error : row.us.toFixed(2) + ' us'}`,
        );
      }
      x.dispose();
      y.dispose();
    }
  }
}
// resnext50_32x4d's ungrouped convs on cuDNN at batch 1, float32 and float16, with bias and ReLU as the network
// runs them: how much of a float16 forward's time they take against float32's, and whether host or GPU bound.
for (const l of DENSE) {
  const wHost = randArray(l.k * l.c * l.r * l.r, 7);
  const bias = randArray(l.k, 8);
  const p = outHW(l);
  const xShape = [1, l.c, l.hw, l.hw];
  const xHost = randArray(l.c * l.hw * l.hw, 12);
  for (const dtype of ['float32', 'float16']) {
    const row = { layer: l.name, kind: 'dense', batch: 1, dtype, impl: 'cudnn', c: l.c, k: l.k, r: l.r, hw: l.hw, stride: l.stride };
    let plan, x, y;
    try {
      x = new b.DeviceBuffer(xHost.length, DT[dtype]);
      x.upload(xHost, xShape);
      y = new b.DeviceBuffer(l.k * p * p, DT[dtype]);
      plan = new b.CudaConvPlan(wHost, [l.k, l.c, l.r, l.r], bias, {
        groups: 1,
        stride: [l.stride, l.stride],
        dilation: [1, 1],
        padding: [l.pad, l.pad, l.pad, l.pad],
        activation: 'relu',
        dtype: DT[dtype],
        impl: 'cudnn',
      });
      Object.assign(
        row,
        timeRuns(() => plan.run(x, xShape, y, null)),
        { info: plan.info() },
      );
    } catch (err) {
      row.error = String(err && err.message ? err.message : err);
    } finally {
      for (const o of [plan, x, y]) if (o) o.dispose();
    }
    results.push(row);
    const t = row.error ? 'ERROR ' + row.error : `${row.us.toFixed(2)} us (host ${Number(row.host_us).toFixed(2)})`;
    console.log(`${row.layer.padEnd(16)} N=1   ${dtype.padEnd(8)} cudnn  ${t}`);
  }
}

if (xcheckDir) fs.writeFileSync(path.join(xcheckDir, 'index.json'), JSON.stringify(xcheck, null, 1));
fs.writeFileSync(outFile, JSON.stringify({ probe, memory: b.memory(), results }, null, 1));
