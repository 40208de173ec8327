#!/usr/bin/env node
'use strict';
// Whole-network benchmark: batch-1 latency and batch-8 throughput of resnet50
// and resnext50_32x4d on our CPU backend next to onnxruntime-node running the
// same network with the same weights (ONNX graph built in code from
// stateDict(), see onnx_network.js). Before timing, the logits of both are
// checked against each other (and ours against our reference backend on a
// small input is covered by the test suite). Timing is steady state: one
// prepared model / session per configuration, warm-up runs, then interleaved
// rounds (ours, ORT, ours, ...) pooled into median and min.
//
// Usage: npm run bench:networks   (env: ROUNDS=5, MODELS=resnet50,resnext50_32x4d, BATCHES=1,8)
// Writes bench/results/networks.json and networks.md.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
const ort = require('onnxruntime-node');
const { networkModel } = require('./onnx_network');

const ROUNDS = Number(process.env.ROUNDS || 5);
const MODELS = (process.env.MODELS || 'resnet50,resnext50_32x4d').split(',');
const BATCHES = (process.env.BATCHES || '1,8').split(',').map(Number);
const THREADS = 2;
const SIZE = 224;

/** Deterministic non-trivial BN statistics, so folding is exercised (Kaiming init alone has mean 0 / var 1). */
function randomizeBatchNorm(model, seed) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (const [name, t] of model.stateDict()) {
    const d = t.dataSync();
    if (name.endsWith('running_mean')) for (let i = 0; i < d.length; i++) d[i] = 0.2 * (u() - 0.5);
    else if (name.endsWith('running_var')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + u();
    else if (t.shape.length === 1 && name.endsWith('.weight')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + 0.5 * u();
  }
}

function relErr(a, b) {
  let md = 0, mr = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    md = Math.max(md, d);
    mr = Math.max(mr, Math.abs(b[i]));
  }
  return md / Math.max(mr, 1e-30);
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * reps timed runs after one untimed one. Both runtimes keep their worker
 * threads spinning for a while after a run (onnxruntime's intra-op pool spins
 * by default); the pause and the untimed run keep one's spinning threads from
 * eating the other's cores on this 2-core machine.
 */
async function timeIt(fn, reps) {
  await sleep(100);
  await fn();
  const out = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

async function benchModel(name) {
  const model = rx.presets[name]({ seed: 1 });
  randomizeBatchNorm(model, 2);
  const rows = [];
  for (const N of BATCHES) {
    const x = rx.randn([N, 3, SIZE, SIZE], { seed: 3 });
    const bytes = networkModel(model, N, SIZE);
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: THREADS,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const feeds = { x: new ort.Tensor('float32', x.dataSync(), [N, 3, SIZE, SIZE]) };
    const ours = await model.forward(x, { backend: 'cpu' });
    const theirs = (await session.run(feeds)).logits.data;
    const agree = relErr(ours.dataSync(), theirs);
    if (!(agree < 1e-3)) throw new Error(`${name} N=${N}: logits disagree with onnxruntime (normwise relative error ${agree})`);
    const reps = N === 1 ? 8 : 3;
    // Our default (one native job per forward) and, at batch 1, the per-layer async mode for comparison.
    const layerModel = N === 1 ? rx.presets[name]({ seed: 1, weights: model.stateDict({ copy: true }) }) : null;
    const runners = { ours: () => model.forward(x, { backend: 'cpu' }), ort: () => session.run(feeds) };
    if (layerModel) runners.oursLayer = () => layerModel.forward(x, { backend: 'cpu', mode: 'layer' });
    const names = Object.keys(runners);
    for (const k of names) await timeIt(runners[k], 2);
    const t = Object.fromEntries(names.map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate who goes first so drift from other load on the machine hits all alike.
      for (let j = 0; j < names.length; j++) {
        const k = names[(r + j) % names.length];
        t[k].push(...(await timeIt(runners[k], reps)));
      }
    }
    layerModel?.dispose();
    await session.release();
    const row = {
      model: name,
      batch: N,
      gmacs: model.macs([N, 3, SIZE, SIZE]) / 1e9,
      logitsRelErr: agree,
      ours: { medianMs: median(t.ours), minMs: Math.min(...t.ours), reps: t.ours.length },
      ort: { medianMs: median(t.ort), minMs: Math.min(...t.ort), reps: t.ort.length },
      oursLayerMode: t.oursLayer ? { medianMs: median(t.oursLayer), minMs: Math.min(...t.oursLayer), reps: t.oursLayer.length } : null,
      loadAverage: os.loadavg()[0],
    };
    row.oursImagesPerS = (N * 1000) / row.ours.medianMs;
    row.ortImagesPerS = (N * 1000) / row.ort.medianMs;
    row.speedupVsOrt = row.ort.medianMs / row.ours.medianMs;
    rows.push(row);
    console.log(
      `${name} N=${N}: ours ${row.ours.medianMs.toFixed(2)} ms (min ${row.ours.minMs.toFixed(2)}), ORT ${row.ort.medianMs.toFixed(2)} ms (min ${row.ort.minMs.toFixed(2)}), ` +
        `ours/ORT throughput ${row.speedupVsOrt.toFixed(2)}x, logits rel err ${agree.toExponential(2)}` +
        (row.oursLayerMode ? `; per-layer async mode ${row.oursLayerMode.medianMs.toFixed(2)} ms` : '') + `; load average ${row.loadAverage.toFixed(1)}`,
    );
  }
  const impls = {};
  for (const p of model.planInfo()) impls[p.impl] = (impls[p.impl] || 0) + 1;
  model.dispose();
  return { rows, impls };
}

function markdown(doc) {
  const L = [];
  L.push('# Whole networks: our CPU backend vs onnxruntime-node (same network, same weights)', '');
  L.push(`Generated ${doc.date} by \`npm run bench:networks\` (commit ${doc.commit}). Machine: ${doc.machine.cpu}, ${doc.machine.cores} cores, Node ${doc.machine.node}, onnxruntime-node ${doc.ortVersion}, ${THREADS} threads each, ${SIZE}x${SIZE}, fp32, ${ROUNDS} interleaved rounds.`, '');
  L.push('Cells: median ms (min ms). Throughput = batch / median. Logits of both checked to agree (normwise relative error) before timing.', '');
  L.push('"ours" is the default forward (one native job per call); "ours, per-layer" runs the same fused network as one async native call per layer (batch 1 only). "load" is the 1-minute load average after the row (2 cores; other engineers were compiling and benchmarking).', '');
  L.push('| model | batch | GMACs | ours ms | ORT ms | ours img/s | ORT img/s | ours / ORT throughput | ours, per-layer ms | logits rel err | load |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of doc.rows) {
    L.push(
      `| ${r.model} | ${r.batch} | ${r.gmacs.toFixed(2)} | ${r.ours.medianMs.toFixed(2)} (${r.ours.minMs.toFixed(2)}) | ${r.ort.medianMs.toFixed(2)} (${r.ort.minMs.toFixed(2)}) | ` +
        `${r.oursImagesPerS.toFixed(1)} | ${r.ortImagesPerS.toFixed(1)} | ${r.speedupVsOrt.toFixed(2)}x | ` +
        `${r.oursLayerMode ? `${r.oursLayerMode.medianMs.toFixed(2)} (${r.oursLayerMode.minMs.toFixed(2)})` : '-'} | ${r.logitsRelErr.toExponential(1)} | ${r.loadAverage.toFixed(1)} |`,
    );
  }
  L.push('', '## Targets', '');
  for (const t of doc.targets) L.push(`- ${t.name}: ${t.value} (target ${t.target}) — ${t.met ? 'met' : 'NOT met'}`);
  L.push('', '## Conv kernels chosen by our plans', '');
  for (const [m, impls] of Object.entries(doc.impls)) L.push(`- ${m}: ${Object.entries(impls).map(([k, v]) => `${k} x${v}`).join(', ')}`);
  return L.join('\n') + '\n';
}

async function main() {
  rx.setNumThreads(THREADS);
  const rows = [];
  const impls = {};
  for (const name of MODELS) {
    const r = await benchModel(name);
    rows.push(...r.rows);
    impls[name] = r.impls;
  }
  const find = (m, n) => rows.find((r) => r.model === m && r.batch === n);
  const targets = [];
  const x1 = find('resnext50_32x4d', 1), r1 = find('resnet50', 1);
  if (x1) targets.push({ name: 'resnext50_32x4d batch-1 throughput vs ORT', value: `${x1.speedupVsOrt.toFixed(2)}x`, target: '>= 1.2x', met: x1.speedupVsOrt >= 1.2 });
  if (x1 && r1) {
    const ratio = x1.ours.medianMs / r1.ours.medianMs;
    targets.push({ name: 'our resnext50_32x4d time / our resnet50 time (batch 1)', value: `${ratio.toFixed(2)}x`, target: '<= 1.10x', met: ratio <= 1.1 });
    const ortRatio = x1.ort.medianMs / r1.ort.medianMs;
    targets.push({ name: 'ORT resnext50_32x4d time / ORT resnet50 time (batch 1, for comparison)', value: `${ortRatio.toFixed(2)}x`, target: 'none', met: true });
  }
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root }).toString().trim();
  } catch {}
  const doc = {
    date: new Date().toISOString(),
    commit,
    machine: { cpu: os.cpus()[0].model, cores: os.cpus().length, node: process.version },
    ortVersion: require('onnxruntime-node/package.json').version,
    cpuInfo: rx.cpuInfo(),
    rows,
    targets,
    impls,
  };
  const outDir = path.join(root, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'networks.json'), JSON.stringify(doc, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'networks.md'), markdown(doc));
  console.log(markdown(doc));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
