#!/usr/bin/env node
'use strict';
// Where a whole-network CPU forward spends its time, step by step, beside
// onnxruntime-node's (ORT) own profile of the same network under the same
// conditions: our forward timed by model.profile() (each step of the native
// layer program, steady clock) and ORT's graph (our ONNX export, BN folded and
// Conv+Add+Relu fused by ORT itself) with enableProfiling, both in this
// process, interleaved run by run, same threads, same weights and input.
// Cells are medians over rounds (the machine's speed drifts; interleaving and
// medians keep the comparison fair).
//
// Mapping ORT nodes to our steps: our exporter names each node after its
// torchvision module (lib/onnx/export.ts: Conv 'layer1.0.conv1', its
// BatchNormalization 'layer1.0.bn1' with output 'layer1.0.bn1.out', Relu
// output 'layer1.0.bn1.relu', the block's Add/Relu 'layer1.0.add' and
// 'layer1.0.relu' with outputs 'layer1.0.sum' / 'layer1.0.out'). ORT names a
// fused node after its output, with '_nchwc' when it runs in its blocked
// layout:
//   '<m>.bnK.relu[_nchwc]' / '<m>.bnK.out[_nchwc]'   -> conv '<m>.convK' ('bn1.relu' -> the stem 'conv1')
//   '<m>.downsample.1.out[_nchwc]'                    -> conv '<m>.downsample.0'
//   '<m>.convK.out' (a conv ORT left unfused)          -> conv '<m>.convK'
//   '<block>.sum' / '<block>.out' (Add / Relu ORT ran on its own) -> '<block>.add' / '<block>.relu'
//     (ours are fused into the block's conv3: their "ours" cell is 0)
//   'maxpool.out*' -> maxpool, 'avgpool.out*' -> avgpool, 'fc', 'flatten' -> fc,
//   Reorder* nodes and our reorder steps -> one row 'reorders' each side.
// Anything else keeps ORT's name (its row shows 0 for ours).
//
// Usage: node bench/networks/steps.js [--models resnext50_32x4d,resnet50]
//          [--batch 1[,8]] [--rounds 20] [--threads 2] [--size 224] [--json FILE] [--warm 0|1]
// Each round times each runtime's forward after a 100 ms pause (so that neither
// shares the cores with the other's spinning threads): a run after an idle
// gap. --warm 1 runs one untimed forward after the pause, so the timed one is
// back to back with it (bench:networks' steady state).
// Needs `node scripts/build-ts.js` (reads dist/). Writes nothing unless --json
// (ORT's profile files go to the OS temp folder and are deleted once read).

const fs = require('fs');
const os = require('os');
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
const ort = require('onnxruntime-node');
const { ortNativeSession } = require('../ort_session');
const { networkModel } = require(path.join(root, 'dist', 'cjs', 'onnx', 'export.js'));

function parseArgs(argv) {
  const a = { models: ['resnext50_32x4d', 'resnet50'], batch: [1], rounds: 20, threads: 2, size: 224, json: null, warm: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    if (k === 'models') a.models = v.split(',');
    else if (k === 'batch') a.batch = v.split(',').map(Number);
    else if (k === 'rounds') a.rounds = Number(v);
    else if (k === 'threads') a.threads = Number(v);
    else if (k === 'size') a.size = Number(v);
    else if (k === 'json') a.json = v;
    else if (k === 'warm') a.warm = Number(v);
    else throw new Error(`unknown option --${k}`);
  }
  return a;
}

const median = (v) => {
  if (v.length === 0) return 0;
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Our row key for an ORT node name (see the file comment), or null for the name itself. */
function ortKey(name, op) {
  const n = name.replace(/_kernel_time$/, '').replace(/_nchwc$/, '');
  if (/^Reorder/.test(n) || op === 'ReorderInput' || op === 'ReorderOutput') return 'reorders';
  let m = /^(?:(.*)\.)?bn(\d)\.(?:relu|out)$/.exec(n);
  if (m) return m[1] ? `${m[1]}.conv${m[2]}` : `conv${m[2]}`;
  if ((m = /^(.*)\.downsample\.1\.out$/.exec(n))) return `${m[1]}.downsample.0`;
  if ((m = /^(.*)\.(conv\d|downsample\.0)\.out$/.exec(n))) return `${m[1]}.${m[2]}`;
  if ((m = /^(layer\d+\.\d+)\.sum$/.exec(n))) return `${m[1]}.add`;
  if ((m = /^(layer\d+\.\d+)\.out$/.exec(n))) return `${m[1]}.relu`;
  if (/^maxpool/.test(n)) return 'maxpool';
  if (/^avgpool/.test(n)) return 'avgpool';
  if (n === 'fc' || n === 'flatten') return 'fc';
  return n;
}

/** conv name -> its kind: 'stem', 'grouped 3x3', 'dense 3x3', '1x1 @HxW' (input spatial size). */
function convKinds(arch, size) {
  const out = (n, k, s, p) => Math.floor((n + 2 * p - k) / s) + 1;
  const kinds = new Map([[arch.stem.name, 'stem']]);
  let H = out(size, arch.stem.kernel, arch.stem.stride, arch.stem.padding);
  if (arch.maxPool) H = out(H, 3, 2, 1);
  for (const stage of arch.stages)
    for (const b of stage) {
      const H2 = out(H, b.conv2.kernel, b.conv2.stride, b.conv2.padding);
      kinds.set(b.conv1.name, `1x1 @${H}`);
      kinds.set(b.conv2.name, b.conv2.groups > 1 ? 'grouped 3x3' : 'dense 3x3');
      kinds.set(b.conv3.name, `1x1 @${H2}`);
      if (b.downsample) kinds.set(b.downsample.name, `1x1 @${H} (shortcut)`);
      H = H2;
    }
  return kinds;
}

function kindOf(key, kinds) {
  if (kinds.has(key)) return kinds.get(key);
  if (key === 'maxpool' || key === 'avgpool') return 'pools';
  if (key === 'reorders') return 'reorders';
  if (/\.(add|relu)$/.test(key)) return 'add/relu';
  return key === 'fc' ? 'fc' : 'other';
}

async function profileModel(name, N, a) {
  const model = rx.presets[name]({ seed: 1 });
  const x = rx.randn([N, 3, a.size, a.size], { seed: 3 });
  rx.setNumThreads(a.threads);
  const prefix = path.join(os.tmpdir(), `resnext-steps-${process.pid}-${name}-${N}`);
  const session = ortNativeSession(networkModel(model, N, a.size), a.threads, { enableProfiling: true, profileFilePrefix: prefix });
  const feeds = { input: new ort.Tensor('float32', x.dataSync(), [N, 3, a.size, a.size]) };
  const fetches = { logits: new ort.Tensor('float32', new Float32Array(N * 1000), [N, 1000]) };

  // Warm-up (untimed): prepares our engine and program, and ORT's first run.
  const warm = await model.profile(x);
  session.run(feeds, fetches, {});
  const ours = []; // per round: Map key -> ms, and the whole call
  const ourTotal = [];
  let steps = warm.steps;
  // Both runtimes keep their worker threads spinning for a while after a run (ORT's intra-op pool much longer
  // than ours): without a pause, the one timed next shares the two cores with the other's spinning threads.
  const settle = () => new Promise((r) => setTimeout(r, 100));
  for (let r = 0; r < a.rounds; r++) {
    await settle();
    if (a.warm) await model.profile(x);
    const p = await model.profile(x);
    steps = p.steps;
    const m = new Map();
    for (const s of p.steps) {
      const key = s.op === 'reorder' ? 'reorders' : s.name;
      m.set(key, (m.get(key) ?? 0) + s.ms);
    }
    ours.push(m);
    ourTotal.push(p.totalMs);
    await settle();
    if (a.warm) session.run(feeds, fetches, {});
    session.run(feeds, fetches, {});
  }
  // ORT writes its profile (a JSON array of trace events) when profiling ends.
  session.endProfiling();
  const file = fs
    .readdirSync(os.tmpdir())
    .map((f) => path.join(os.tmpdir(), f))
    .find((f) => f.startsWith(prefix) && f.endsWith('.json'));
  if (!file) throw new Error(`onnxruntime wrote no profile under ${prefix}*`);
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.unlinkSync(file);
  session.dispose();
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((p, q) => p.ts - q.ts);
  // The first model_run is the warm-up.
  // With --warm 1 each round's first run is untimed too.
  const timed = runs.slice(1).filter((_, i) => !a.warm || i % 2 === 1);
  const ortRuns = timed.map(() => new Map());
  const ortOps = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const r = timed.findIndex((run) => e.ts >= run.ts && e.ts <= run.ts + run.dur);
    if (r < 0) continue;
    const key = ortKey(e.name, e.args && e.args.op_name);
    ortRuns[r].set(key, (ortRuns[r].get(key) ?? 0) + e.dur / 1000);
    if (!ortOps.has(key)) ortOps.set(key, new Set());
    ortOps.get(key).add((e.args && e.args.op_name) || '?');
  }
  const kinds = convKinds(model.architecture, a.size);
  const keys = [];
  for (const s of steps) {
    const key = s.op === 'reorder' ? 'reorders' : s.name;
    if (!keys.includes(key)) keys.push(key);
  }
  for (const k of ortOps.keys()) if (!keys.includes(k)) keys.push(k);
  const stepOf = new Map(steps.map((s) => [s.op === 'reorder' ? 'reorders' : s.name, s]));
  const rows = keys.map((key) => {
    const s = stepOf.get(key);
    const oursMs = median(ours.map((m) => m.get(key) ?? 0));
    const ortMs = median(ortRuns.map((m) => m.get(key) ?? 0));
    return {
      key,
      kind: kindOf(key, kinds),
      impl: s ? (s.impl ?? s.layout) : '',
      layout: s ? s.layout : '',
      ortOp: [...(ortOps.get(key) ?? [])].join('+'),
      oursMs,
      ortMs,
      lossMs: oursMs - ortMs,
    };
  });
  model.dispose();
  return {
    model: name,
    batch: N,
    rounds: a.rounds,
    threads: a.threads,
    oursWholeMs: median(ourTotal),
    ortWholeMs: median(timed.map((r) => r.dur / 1000)),
    oursStepSumMs: rows.reduce((t, r) => t + r.oursMs, 0),
    ortNodeSumMs: rows.reduce((t, r) => t + r.ortMs, 0),
    // The median over rounds of each round's sum: a preemption lands in some step of every slow round, so this
    // is above the sum of per-step medians on a busy machine; the rest of the whole call is hand-off.
    oursRoundSumMs: median(ours.map((m) => [...m.values()].reduce((t, v) => t + v, 0))),
    ortRoundSumMs: median(ortRuns.map((m) => [...m.values()].reduce((t, v) => t + v, 0))),
    rows,
  };
}

const f = (v, d = 3) => v.toFixed(d);
const ratio = (o, t) => (t > 0 ? f(o / t, 2) : '-');

function print(res) {
  console.log(
    `\n## ${res.model}, batch ${res.batch}, ${res.threads} threads, ${res.rounds} rounds (medians, ms)\n` +
      `whole forward: ours ${f(res.oursWholeMs, 2)} (profile() call), ORT ${f(res.ortWholeMs, 2)} (model_run); ` +
      `sum of step medians: ours ${f(res.oursStepSumMs, 2)}, ORT ${f(res.ortNodeSumMs, 2)}; ` +
      `median of per-round sums: ours ${f(res.oursRoundSumMs, 2)}, ORT ${f(res.ortRoundSumMs, 2)}\n`,
  );
  const rows = [...res.rows].sort((p, q) => q.lossMs - p.lossMs);
  console.log('| step | kind | ours impl | ORT op | ours ms | ORT ms | ours/ORT | lost ms |');
  console.log('|---|---|---|---|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.key} | ${r.kind} | ${r.impl} | ${r.ortOp} | ${f(r.oursMs)} | ${f(r.ortMs)} | ${ratio(r.oursMs, r.ortMs)} | ${f(r.lossMs)} |`,
    );
  const byKind = new Map();
  for (const r of res.rows) {
    const k = byKind.get(r.kind) ?? { ours: 0, ort: 0, n: 0 };
    k.ours += r.oursMs;
    k.ort += r.ortMs;
    k.n += 1;
    byKind.set(r.kind, k);
  }
  console.log('\n| kind | rows | ours ms | ORT ms | ours/ORT | lost ms |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [kind, k] of [...byKind].sort((p, q) => q[1].ours - q[1].ort - (p[1].ours - p[1].ort)))
    console.log(`| ${kind} | ${k.n} | ${f(k.ours, 2)} | ${f(k.ort, 2)} | ${ratio(k.ours, k.ort)} | ${f(k.ours - k.ort, 2)} |`);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const cpu = rx.cpuInfo ? rx.cpuInfo() : null;
  console.log(`# Steps inside the network, ours vs onnxruntime-node ${ort.env.versions.node ?? ''} profile`);
  console.log(
    `CPU: ${require(path.join(root, 'dist', 'cjs', 'cli', 'machine.js')).cpuLabel()}, ${os.cpus().length} cores${cpu ? `, ISA cap ${cpu.cap}` : ''}`,
  );
  const results = [];
  for (const N of a.batch)
    for (const name of a.models) {
      const res = await profileModel(name, N, a);
      print(res);
      results.push(res);
    }
  if (a.json) fs.writeFileSync(a.json, JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
