#!/usr/bin/env node
'use strict';
// Whole-network benchmark: batch-1 latency and batch-8 throughput of resnet50
// and resnext50_32x4d on our CPU backend next to onnxruntime-node running the
// same network with the same weights (ONNX graph built in code from
// stateDict(), see onnx_network.js) and, when `/usr/bin/python3 -c 'import
// torch'` works, torchvision's model in PyTorch (eval, no_grad, the faster of
// NCHW and channels_last) and onnxruntime-node on the graph that
// torch.onnx.export writes for it. Each model x runtime runs in its own
// child process (runner.js), built from the same seed; before timing, the
// parent checks that their logits agree. Timing is steady state: one prepared
// model / session per configuration; per batch size, all models and runtimes
// are timed in the same interleaved rounds (the order rotates each round; each
// block starts with a pause and an untimed run), pooled into median and min.
//
// Usage: npm run bench:networks [-- --save] [-- --no-torch]  (env: ROUNDS=5, MODELS=resnet50,resnext50_32x4d, BATCHES=1,8)
// Timing is back-to-back: each block is a 100 ms pause, one untimed run, then
// timed runs one after the other.
// Writes bench/results/tmp/networks.json and networks.md (bench/results/ with --save).

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execSync, fork } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const { measurePeak, peakGflops: peakGflopsFor } = require('../peak/build');
const torchChild = require('../torch_child');

const ROUNDS = Number(process.env.ROUNDS || 5);
const MODELS = (process.env.MODELS || 'resnet50,resnext50_32x4d').split(',');
const BATCHES = (process.env.BATCHES || '1,8').split(',').map(Number);
const THREADS = 2;
const SIZE = 224;
const SAVE = process.argv.includes('--save');
const RESULTS = path.join(root, 'bench', 'results', ...(SAVE ? [] : ['tmp']));
const TORCH = process.argv.includes('--no-torch') ? { ok: false, reason: 'left out by --no-torch' } : torchChild.available();

function relErr(a, b) {
  let md = 0,
    mr = 0;
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

/** A runner child process with a promise-returning request(). */
function spawnRunner() {
  const child = fork(path.join(__dirname, 'runner.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending = null;
  child.on('message', (m) => {
    const p = pending;
    pending = null;
    if (p) m.ok ? p.resolve(m) : p.reject(new Error(m.error));
  });
  child.on('exit', (code) => {
    if (pending) pending.reject(new Error(`runner exited with code ${code}`));
  });
  return {
    request: (msg) =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject };
        child.send(msg);
      }),
    close: () => child.send({ cmd: 'exit' }),
  };
}

const stats = (t) => ({ medianMs: median(t), minMs: Math.min(...t), reps: t.length });

/**
 * One batch size: every model x runtime in its own process, all timed in the
 * same interleaved rounds, so that ratios across models (our resnext50 vs our
 * resnet50) see the same machine conditions as ratios across runtimes.
 */
async function benchBatch(N, models) {
  const runtimes = [
    ...(N === 1 ? ['ours', 'ort', 'ours-layer', 'ours-direct'] : ['ours', 'ort']),
    ...(TORCH.ok ? ['torch', 'ort-torch'] : []),
  ];
  const keys = models.flatMap((m) => runtimes.map((r) => `${m}/${r}`));
  const runners = {};
  const logits = {};
  const out = { rows: [], impls: {}, ortVersion: '', cpuInfo: null, torchLayout: {}, torchVersion: null };
  try {
    // Prepared one at a time, so preparation never overlaps another's work.
    for (const key of keys) {
      const [model, runtime] = key.split('/');
      runners[key] = spawnRunner();
      const res = await runners[key].request({
        cmd: 'prepare',
        runtime,
        model,
        batch: N,
        size: SIZE,
        threads: THREADS,
        tmpDir: path.join(root, 'bench', 'results', 'tmp'),
      });
      if (res.info.torchLayout) out.torchLayout[model] = { chosen: res.info.torchLayout, probeMs: res.info.torchLayoutMs };
      if (res.info.torchVersion) out.torchVersion = res.info.torchVersion;
      logits[key] = res.logits;
      if (res.info.impls && (runtime === 'ours' || runtime === 'ours-direct'))
        out.impls[runtime === 'ours' ? model : `${model} (algorithm 'direct')`] = res.info.impls;
      if (res.info.cpuInfo) out.cpuInfo = res.info.cpuInfo;
      if (res.info.ortVersion) out.ortVersion = res.info.ortVersion;
    }
    const agree = {};
    for (const m of models) {
      agree[m] = relErr(logits[`${m}/ours`], logits[`${m}/ort`]);
      if (!(agree[m] < 1e-3)) throw new Error(`${m} N=${N}: logits disagree with onnxruntime (normwise relative error ${agree[m]})`);
      // The per-layer mode runs NCHW kernels; the default mode runs layer1 and layer2 in the blocked layout.
      if (logits[`${m}/ours-layer`] && !(relErr(logits[`${m}/ours-layer`], logits[`${m}/ours`]) < 1e-5))
        throw new Error(`${m}: the per-layer mode's logits differ from the default mode's`);
      if (logits[`${m}/ours-direct`] && !(relErr(logits[`${m}/ours-direct`], logits[`${m}/ort`]) < 1e-3))
        throw new Error(`${m}: algorithm 'direct' logits disagree with onnxruntime`);
      for (const peer of ['torch', 'ort-torch']) {
        if (!logits[`${m}/${peer}`]) continue;
        agree[`${m}/${peer}`] = relErr(logits[`${m}/ours`], logits[`${m}/${peer}`]);
        if (!(agree[`${m}/${peer}`] < 1e-3))
          throw new Error(`${m} N=${N}: logits disagree with ${peer} (normwise relative error ${agree[`${m}/${peer}`]})`);
      }
    }
    const reps = N === 1 ? 6 : 2;
    const t = Object.fromEntries(keys.map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let j = 0; j < keys.length; j++) {
        const k = keys[(round + j) % keys.length];
        t[k].push(...(await runners[k].request({ cmd: 'time', reps })).times);
      }
    }
    // Our forward step by step (model.profile(), same options), for the ceiling below.
    const steps = {};
    for (const m of models) steps[m] = (await runners[`${m}/ours`].request({ cmd: 'profile', reps: N === 1 ? 9 : 5 })).runs;
    for (const m of models) {
      const row = {
        model: m,
        batch: N,
        gmacs: null,
        logitsRelErr: agree[m],
        ours: stats(t[`${m}/ours`]),
        ort: stats(t[`${m}/ort`]),
        oursLayerMode: t[`${m}/ours-layer`] ? stats(t[`${m}/ours-layer`]) : null,
        oursDirect: t[`${m}/ours-direct`] ? stats(t[`${m}/ours-direct`]) : null,
        torch: t[`${m}/torch`] ? stats(t[`${m}/torch`]) : null,
        ortTorchGraph: t[`${m}/ort-torch`] ? stats(t[`${m}/ort-torch`]) : null,
        torchLogitsRelErr: agree[`${m}/torch`] ?? null,
        ortTorchGraphLogitsRelErr: agree[`${m}/ort-torch`] ?? null,
        loadAverage: os.loadavg()[0],
        oursProfile: steps[m],
      };
      row.oursImagesPerS = (N * 1000) / row.ours.medianMs;
      row.ortImagesPerS = (N * 1000) / row.ort.medianMs;
      row.speedupVsOrt = row.ort.medianMs / row.ours.medianMs;
      const fastestPeer = Math.min(row.ort.medianMs, row.torch?.medianMs ?? Infinity, row.ortTorchGraph?.medianMs ?? Infinity);
      row.speedupVsFastestPeer = fastestPeer / row.ours.medianMs;
      out.rows.push(row);
      console.log(
        `${m} N=${N}: ours ${row.ours.medianMs.toFixed(2)} ms (min ${row.ours.minMs.toFixed(2)}), ORT ${row.ort.medianMs.toFixed(2)} ms (min ${row.ort.minMs.toFixed(2)}), ` +
          `ours/ORT throughput ${row.speedupVsOrt.toFixed(2)}x, logits rel err ${agree[m].toExponential(2)}` +
          (row.oursLayerMode ? `; per-layer async mode ${row.oursLayerMode.medianMs.toFixed(2)} ms` : '') +
          (row.torch
            ? `; PyTorch ${row.torch.medianMs.toFixed(2)} ms (${out.torchLayout[m]?.chosen}), ORT on torch.onnx.export's graph ${row.ortTorchGraph.medianMs.toFixed(2)} ms; ours vs the fastest peer ${row.speedupVsFastestPeer.toFixed(2)}x`
            : '') +
          `; load average ${row.loadAverage.toFixed(1)}`,
      );
    }
  } finally {
    for (const r of Object.values(runners)) r.close();
  }
  return out;
}

function markdown(doc) {
  const L = [];
  L.push('# Whole networks: our CPU backend vs onnxruntime-node and PyTorch (same network, same weights)', '');
  L.push(
    `Generated ${doc.date} by \`npm run bench:networks\` (commit ${doc.commit}). Machine: ${doc.machine.cpu}, ${doc.machine.cores} cores, Node ${doc.machine.node}, onnxruntime-node ${doc.ortVersion}, ${THREADS} threads each, ${SIZE}x${SIZE}, fp32, ${doc.rounds ?? ROUNDS} interleaved rounds.`,
    '',
  );
  L.push(
    (doc.torchVersion
      ? `PyTorch ${doc.torchVersion}: torchvision's model with the same weights, eval, torch.no_grad(), torch.set_num_threads(${THREADS}), the faster of NCHW and channels_last (median of 5 runs each, at prepare: ${Object.entries(
          doc.torchLayout ?? {},
        )
          .map(([k, v]) => `${k} ${v.chosen}`)
          .join(
            ', ',
          )}); "ORT, torch graph" is onnxruntime-node on the graph torch.onnx.export (opset 13) writes for that model, so the ORT comparison does not rest on our encoder.`
      : `PyTorch not measured: ${doc.torchNote ?? 'not run'}.`) +
      '\n\n' +
      'Timing: back-to-back (each block: a 100 ms pause, one untimed run, then timed runs one after another); the after-an-idle-gap latency of batch 1 is what `resnext bench` and the thread-pool distribution in docs/performance.md measure. ' +
      'Cells: median ms (min ms). Throughput = batch / median. Each model x runtime in its own process, and per batch size all of them timed in the same interleaved rounds (so ratios across models and across runtimes see the same conditions); logits of ours and ORT checked to agree (normwise relative error) before timing.',
    '',
  );
  L.push(
    '"ours" is the default forward (one native job per call; 3x3 convs run Winograd where it is faster, F(4x4,3x3) or F(2x2,3x3), and stride-2 dense ones by parity decomposition; the first forward of each shape times Winograd against direct convolution per conv, in either layout (tune), and keeps the faster; the kernels each plan chose are listed below); "ours, direct" is the same with algorithm \'direct\' (direct convolution only, so every model is timed at its multiply count; batch 1 only); "ours, per-layer" runs the same fused network as one async native call per layer (batch 1 only). "load" is the 1-minute load average after the row (2 cores; other processes, and this VM\'s host, share the cores at times).',
    '',
  );
  if (doc.peakGflops)
    L.push(
      `"% pk" = GFLOP/s (2 x MACs / median) over this machine's measured fp32 FMA peak at ${THREADS} threads, ${doc.peakGflops.toFixed(0)} GFLOP/s (bench/peak/peak.cc).`,
      '',
    );
  L.push(
    '| model | batch | GMACs | ours ms | ORT ms | PyTorch ms | ORT, torch graph ms | ours img/s | ORT img/s | ours % pk | ORT % pk | ours / ORT throughput (medians) | same, from mins | ours / fastest peer | ours, direct ms | ours, per-layer ms | logits rel err (ORT / torch / ORT torch graph) | load |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of doc.rows) {
    L.push(
      `| ${r.model} | ${r.batch} | ${r.gmacs.toFixed(2)} | ${r.ours.medianMs.toFixed(2)} (${r.ours.minMs.toFixed(2)}) | ${r.ort.medianMs.toFixed(2)} (${r.ort.minMs.toFixed(2)}) | ` +
        `${r.torch ? `${r.torch.medianMs.toFixed(2)} (${r.torch.minMs.toFixed(2)})` : '-'} | ${r.ortTorchGraph ? `${r.ortTorchGraph.medianMs.toFixed(2)} (${r.ortTorchGraph.minMs.toFixed(2)})` : '-'} | ` +
        `${r.oursImagesPerS.toFixed(1)} | ${r.ortImagesPerS.toFixed(1)} | ${pctPeak(doc, r, r.ours.medianMs)} | ${pctPeak(doc, r, r.ort.medianMs)} | ${r.speedupVsOrt.toFixed(2)}x | ${(r.ort.minMs / r.ours.minMs).toFixed(2)}x | ${r.speedupVsFastestPeer ? `${r.speedupVsFastestPeer.toFixed(2)}x` : '-'} | ` +
        `${r.oursDirect ? `${r.oursDirect.medianMs.toFixed(2)} (${r.oursDirect.minMs.toFixed(2)})` : '-'} | ` +
        `${r.oursLayerMode ? `${r.oursLayerMode.medianMs.toFixed(2)} (${r.oursLayerMode.minMs.toFixed(2)})` : '-'} | ${[r.logitsRelErr, r.torchLogitsRelErr, r.ortTorchGraphLogitsRelErr].map((v) => (v == null ? '-' : v.toExponential(1))).join(' / ')} | ${r.loadAverage.toFixed(1)} |`,
    );
  }
  L.push(
    '',
    'On a machine shared with other busy processes the median and the min can tell different stories: the min is the least disturbed run of each, the median the typical one under the same (interleaved) conditions. Both are given; a target counts as met below only when both the median-based and the min-based ratio meet it.',
    '',
  );
  L.push('## Targets', '');
  for (const t of doc.targets) L.push(`- ${t.name}: ${t.value} (target ${t.target}) — ${t.met ? 'met' : 'NOT met'}`);
  L.push('', '## Conv kernels chosen by our plans', '');
  for (const [m, impls] of Object.entries(doc.impls))
    L.push(
      `- ${m}: ${Object.entries(impls)
        .map(([k, v]) => `${k} x${v}`)
        .join(', ')}`,
    );
  return L.join('\n') + '\n';
}

// Percentage of the measured peak that a median time of `ms` reaches on row r.
function pctPeak(doc, r, ms) {
  if (!doc.peakGflops || !r.gmacs) return '-';
  return `${(((2 * r.gmacs) / (ms * 1e-3) / doc.peakGflops) * 100).toFixed(0)}%`;
}

/**
 * What the machine allows row r: the 1x1 convs (most of both networks' multiply-adds; no algorithm computes a
 * 1x1 conv in fewer multiplies) at 100% of the measured FMA peak, the rest of the forward as our profiled
 * forwards measured it (model.profile(): each forward's time minus its 1x1 steps). Gives our 1x1 convs' share of the peak,
 * the fastest forward that leaves, its ratio to the fastest peer, and the share of the peak the 1x1 convs need
 * for 1.2x the fastest peer (Infinity: not even at zero time). Null without a profile or a peak.
 */
function ceilingOf(r, peakGflops) {
  if (!r.oursProfile || !r.convs1x1 || !peakGflops) return null;
  const oneByOne = new Map(r.convs1x1.map((c) => [c.name, c.macs]));
  let macs = 0;
  for (const v of oneByOne.values()) macs += v;
  // Per profiled forward: the 1x1 steps' sum and the rest of the same call (other steps, the gaps between
  // steps, the hand-off); medians over the forwards.
  const per = r.oursProfile.map((p) => {
    const ms1x1 = p.steps.filter((s) => s.op === 'conv' && oneByOne.has(s.name)).reduce((a, s) => a + s.ms, 0);
    return { ms1x1, restMs: p.totalMs - ms1x1 };
  });
  const ms1x1 = median(per.map((x) => x.ms1x1)),
    restMs = median(per.map((x) => x.restMs));
  const idealMs = ((2 * macs) / (peakGflops * 1e9)) * 1e3;
  const fastest = Math.min(r.ort.medianMs, r.torch?.medianMs ?? Infinity, r.ortTorchGraph?.medianMs ?? Infinity);
  const need = fastest / 1.2 - restMs;
  return {
    gmacs1x1: macs / 1e9,
    shareOfMacs: macs / (r.gmacs * 1e9),
    ms1x1,
    restMs,
    ours1x1PctPeak: (idealMs / ms1x1) * 100,
    bestMs: idealMs + restMs,
    bestRatio: fastest / (idealMs + restMs),
    need1x1PctPeak: need > 0 ? (idealMs / need) * 100 : Infinity,
  };
}

function ceilingText(c) {
  if (!c) return '';
  const need = Number.isFinite(c.need1x1PctPeak)
    ? `1.2x needs them at ${c.need1x1PctPeak.toFixed(0)}% of the peak`
    : '1.2x is out of reach even with them at zero time';
  return (
    `; ceiling: our 1x1 convs (${c.gmacs1x1.toFixed(2)} GMACs, ${(c.shareOfMacs * 100).toFixed(0)}% of the MACs) run at ` +
    `${c.ours1x1PctPeak.toFixed(0)}% of the peak, ${need} with the rest of the forward as profiled (${c.restMs.toFixed(2)} ms); ` +
    `at 100% the forward would take ${c.bestMs.toFixed(2)} ms, ${c.bestRatio.toFixed(2)}x the fastest peer`
  );
}

function targetsOf(rows, peakGflops) {
  const find = (m, n) => rows.find((r) => r.model === m && r.batch === n);
  const targets = [];
  for (const r of rows) {
    if (!r.torch) continue;
    r.ceiling = ceilingOf(r, peakGflops);
    targets.push({
      name: `${r.model} batch ${r.batch} vs the fastest of ORT (our graph), ORT (torch.onnx.export's graph) and PyTorch`,
      // Three decimals: a ratio just under the target must not print as the target itself (1.1996 as 1.20x).
      value: `${r.speedupVsFastestPeer.toFixed(3)}x${ceilingText(r.ceiling)}`,
      target: '>= 1.2x',
      met: r.speedupVsFastestPeer >= 1.2,
    });
  }
  const x1 = find('resnext50_32x4d', 1),
    r1 = find('resnet50', 1);
  if (x1) {
    // What the target asks of this machine: 1.2x ORT's throughput as a fraction of the FMA peak.
    const needMs = x1.ort.medianMs / 1.2;
    const needPct = peakGflops && x1.gmacs ? ((2 * x1.gmacs) / (needMs * 1e-3) / peakGflops) * 100 : NaN;
    const need = Number.isFinite(needPct)
      ? `; 1.2x needs <= ${needMs.toFixed(1)} ms, i.e. ${needPct.toFixed(0)}% of the measured peak for the direct-convolution MACs`
      : '';
    targets.push({
      name: 'resnext50_32x4d batch-1 throughput vs ORT',
      value: `${x1.speedupVsOrt.toFixed(2)}x (from mins ${(x1.ort.minMs / x1.ours.minMs).toFixed(2)}x)${need}`,
      target: '>= 1.2x',
      met: x1.speedupVsOrt >= 1.2 && x1.ort.minMs / x1.ours.minMs >= 1.2,
    });
  }
  if (x1 && r1) {
    const ratio = x1.ours.medianMs / r1.ours.medianMs;
    targets.push({
      name: 'our resnext50_32x4d time / our resnet50 time (batch 1, default algorithm: Winograd runs most 3x3 convs of both with 1.44-4x fewer multiplies)',
      value: `${ratio.toFixed(2)}x (from mins ${(x1.ours.minMs / r1.ours.minMs).toFixed(2)}x)`,
      target: '<= 1.10x',
      met: ratio <= 1.1 && x1.ours.minMs / r1.ours.minMs <= 1.1,
    });
    if (x1.oursDirect && r1.oursDirect) {
      const d = x1.oursDirect.medianMs / r1.oursDirect.medianMs,
        dmin = x1.oursDirect.minMs / r1.oursDirect.minMs;
      targets.push({
        name: "the same with algorithm 'direct' (both at their multiply counts, the paper's comparison)",
        value: `${d.toFixed(2)}x (from mins ${dmin.toFixed(2)}x)`,
        target: '<= 1.10x',
        met: d <= 1.1 && dmin <= 1.1,
      });
    }
    const ortRatio = x1.ort.medianMs / r1.ort.medianMs;
    targets.push({
      name: 'ORT resnext50_32x4d time / ORT resnet50 time (batch 1, for comparison)',
      value: `${ortRatio.toFixed(2)}x`,
      target: 'none',
      met: true,
    });
  }
  return targets;
}

async function main() {
  if (process.argv.includes('--report')) {
    // Rewrites networks.md from networks.json (no measuring).
    const file = path.join(RESULTS, 'networks.json');
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.targets = targetsOf(doc.rows, doc.peakGflops);
    fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
    fs.writeFileSync(path.join(RESULTS, 'networks.md'), markdown(doc));
    console.log(markdown(doc));
    return;
  }
  const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
  process.stdout.write('measuring the FMA peak... ');
  const peak = measurePeak(THREADS);
  const peakGflops = peakGflopsFor(peak, THREADS);
  console.log(`${peakGflops.toFixed(0)} GFLOP/s at ${THREADS} threads`);
  const rows = [];
  const impls = {};
  let ortVersion = '',
    cpuInfo = null;
  const torchLayout = {};
  let torchVersion = null;
  console.log(TORCH.ok ? `PyTorch ${TORCH.version} is a peer (${torchChild.PYTHON})` : `PyTorch left out: ${TORCH.reason}`);
  console.log(
    `Timing: back-to-back (per block a 100 ms pause, one untimed forward, then timed forwards one after another), ${ROUNDS} interleaved rounds, every runtime in its own process; for batch-1 latency after an idle gap, see bench/networks/latency.js.`,
  );
  for (const N of BATCHES) {
    const r = await benchBatch(N, MODELS);
    for (const row of r.rows) {
      const model = rx.presets[row.model]();
      row.gmacs = model.macs([row.batch, 3, SIZE, SIZE]) / 1e9;
      // The 1x1 convs (weights [K, C/groups, 1, 1]) and their multiply-adds, for the ceiling.
      row.convs1x1 = model
        .layers([row.batch, 3, SIZE, SIZE])
        .filter((l) => l.op === 'conv' && l.params === l.outputShape[1] * (l.inputShape[1] / l.groups))
        .map((l) => ({ name: l.name, macs: l.macs }));
    }
    rows.push(...r.rows);
    Object.assign(impls, r.impls);
    ortVersion = r.ortVersion;
    for (const [m, l] of Object.entries(r.torchLayout)) torchLayout[`${m} N=${N}`] = l;
    torchVersion = r.torchVersion ?? torchVersion;
    cpuInfo = r.cpuInfo;
  }
  const targets = targetsOf(rows, peakGflops);
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root }).toString().trim();
  } catch {}
  const doc = {
    date: new Date().toISOString(),
    commit,
    machine: {
      cpu: require(path.join(root, 'dist', 'cjs', 'cli', 'machine.js')).cpuLabel(),
      cores: os.cpus().length,
      node: process.version,
    },
    ortVersion,
    torchVersion,
    torchNote: TORCH.ok ? null : TORCH.reason,
    torchLayout,
    cpuInfo,
    peakGflops,
    rounds: ROUNDS,
    rows,
    targets,
    impls,
  };
  const outDir = RESULTS;
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'networks.json'), JSON.stringify(doc, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'networks.md'), markdown(doc));
  console.log(markdown(doc));
  console.log(`wrote ${path.relative(root, outDir)}/networks.md and .json${SAVE ? '' : ' (untracked; --save writes bench/results/)'}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
