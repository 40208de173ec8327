'use strict';
// Where the CPU time of a whole ResNet/ResNeXt forward goes, layer by layer,
// against onnxruntime-node (ORT), in one process on the shared machine:
//   net       our whole forward (mode 'network': one native job) and ORT's
//             whole graph (BN folded, Conv+Add+Relu fused by ORT itself);
//   chain     every conv of the network as its own prepared plan, run in
//             network order on the network's own buffers (each layer reads
//             the previous layer's output, every weight set is touched once
//             per forward, as in the network program), timed one by one;
//   alone     each distinct layer shape repeated back to back (its weights
//             and input stay in cache): the per-layer benchmark setting;
//   ort       the same layer as a one-node ORT graph (Conv + bias, then Relu,
//             and Add of the residual for the last conv of a block), NCHW in
//             and out, repeated back to back.
// Rounds interleave the four; a round keeps the fastest of its reps (the
// machine is shared: other processes only add time) and cells are medians
// over rounds.
//
// Usage: node bench/blocked/profile.js [--models resnext50_32x4d,resnet50]
//        [--batch 1,8] [--rounds 5] [--threads 2] [--json out.json]
// Needs `node scripts/build-ts.js` (reads dist/). Writes nothing unless --json.

const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
const ort = require('onnxruntime-node');
const { ortNativeSession } = require('../ort_session');
const { attrInt, attrInts, modelProto, node, tensorProto, valueInfo } = require(path.join(root, 'dist', 'cjs', 'onnx', 'proto.js'));
const { networkModel } = require(path.join(root, 'dist', 'cjs', 'onnx', 'export.js'));

function parseArgs(argv) {
  const a = { models: ['resnext50_32x4d', 'resnet50'], batch: [1, 8], rounds: 5, threads: 2, json: null };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (k === 'models') a.models = v.split(',');
    else if (k === 'batch') a.batch = v.split(',').map(Number);
    else if (k === 'rounds') a.rounds = Number(v);
    else if (k === 'threads') a.threads = Number(v);
    else if (k === 'json') a.json = v;
    else throw new Error(`unknown option --${k}`);
  }
  return a;
}

const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const outSize = (n, k, s, p) => Math.floor((n + 2 * p - k) / s) + 1;

/** One conv as ORT sees it inside the network: Conv(+bias) [+ Add residual] [+ Relu]. */
function ortLayer(L, N, threads) {
  const { c, H, W, relu, residual } = L;
  const P = outSize(H, c.kernel, c.stride, c.padding),
    Q = outSize(W, c.kernel, c.stride, c.padding);
  const w = rx.randn([c.outC, c.inC / c.groups, c.kernel, c.kernel], { seed: 5 }).dataSync();
  const b = rx.randn([c.outC], { seed: 6 }).dataSync();
  const nodes = [
    node(
      'Conv',
      'conv',
      ['x', 'w', 'b'],
      ['y0'],
      [
        attrInt('group', c.groups),
        attrInts('kernel_shape', [c.kernel, c.kernel]),
        attrInts('strides', [c.stride, c.stride]),
        attrInts('pads', [c.padding, c.padding, c.padding, c.padding]),
        attrInts('dilations', [1, 1]),
      ],
    ),
  ];
  let y = 'y0';
  const inputs = [valueInfo('x', [N, c.inC, H, W])];
  if (residual) {
    nodes.push(node('Add', 'add', [y, 'r'], ['y1']));
    inputs.push(valueInfo('r', [N, c.outC, P, Q]));
    y = 'y1';
  }
  if (relu) {
    nodes.push(node('Relu', 'relu', [y], ['y']));
    y = 'y';
  }
  const bytes = modelProto({
    name: 'layer',
    producer: 'resnext-bench-blocked',
    nodes: y === 'y' ? nodes : [...nodes, node('Identity', 'id', [y], ['y'])],
    initializers: [tensorProto('w', [c.outC, c.inC / c.groups, c.kernel, c.kernel], w), tensorProto('b', [c.outC], b)],
    inputs,
    outputs: [valueInfo('y', [N, c.outC, P, Q])],
  });
  const s = ortNativeSession(bytes, threads);
  const feeds = { x: new ort.Tensor('float32', rx.randn([N, c.inC, H, W], { seed: 7 }).dataSync(), [N, c.inC, H, W]) };
  if (residual) feeds.r = new ort.Tensor('float32', new Float32Array(N * c.outC * P * Q), [N, c.outC, P, Q]);
  const fetches = { y: new ort.Tensor('float32', new Float32Array(N * c.outC * P * Q), [N, c.outC, P, Q]) };
  return () => s.run(feeds, fetches, {});
}

/** Every conv of the network in order, with its input size and fused epilogue. */
function layersOf(arch, size) {
  const out = [];
  let H = outSize(size, arch.stem.kernel, arch.stem.stride, arch.stem.padding);
  out.push({ c: arch.stem, H: size, W: size, relu: true, residual: false, role: 'stem' });
  if (arch.maxPool) H = outSize(H, 3, 2, 1);
  for (const stage of arch.stages) {
    for (const b of stage) {
      const H2 = outSize(H, b.conv2.kernel, b.conv2.stride, b.conv2.padding);
      out.push({ c: b.conv1, H, W: H, relu: true, residual: false, role: 'conv1' });
      out.push({ c: b.conv2, H, W: H, relu: true, residual: false, role: 'conv2' });
      if (b.downsample) out.push({ c: b.downsample, H, W: H, relu: false, residual: false, role: 'downsample' });
      out.push({ c: b.conv3, H: H2, W: H2, relu: true, residual: true, role: 'conv3' });
      H = H2;
    }
  }
  return out;
}

const keyOf = (L) => `${L.c.inC}->${L.c.outC} k${L.c.kernel} s${L.c.stride} g${L.c.groups} @${L.H}${L.residual ? ' +res' : ''}`;

async function profile(name, N, rounds, threads) {
  const size = 224;
  const model = rx.presets[name]({ seed: 1 });
  const arch = model.architecture;
  const sd = model.stateDict();
  const x = rx.randn([N, 3, size, size], { seed: 3 });
  rx.setNumThreads(threads);
  const layers = layersOf(arch, size);

  // chain: prepared plans on the network's buffer sequence.
  const tensors = new Map();
  const buf = (shape) => rx.zeros(shape);
  let cur = x;
  const steps = [];
  let blockIn = null;
  let mid = null;
  let ds = null;
  for (const L of layers) {
    const c = L.c;
    const P = outSize(L.H, c.kernel, c.stride, c.padding);
    const plan = rx.conv2dPlan(sd.get(`${c.name}.weight`), {
      groups: c.groups,
      stride: c.stride,
      padding: c.padding,
      bias: rx.randn([c.outC], { seed: 4 }),
      activation: L.relu ? 'relu' : 'none',
      backend: 'cpu',
    });
    const out = buf([N, c.outC, P, P]);
    let input;
    if (L.role === 'stem') input = x;
    else if (L.role === 'conv1') input = blockIn;
    else if (L.role === 'conv2') input = mid;
    else if (L.role === 'downsample') input = blockIn;
    else input = mid;
    const residual = L.role === 'conv3' ? (ds ?? blockIn) : undefined;
    steps.push({ L, plan, input, out, residual, key: keyOf(L) });
    if (L.role === 'stem') {
      const pooled = rx.maxPool2d(out, { kernel: 3, stride: 2, padding: 1 });
      steps.push({ pool: true, input: out, out: pooled, key: 'maxpool 3x3/2' });
      blockIn = pooled;
      ds = null;
    } else if (L.role === 'conv1') mid = out;
    else if (L.role === 'conv2') mid = out;
    else if (L.role === 'downsample') ds = out;
    else {
      blockIn = out;
      ds = null;
    }
    void tensors;
    cur = out;
  }
  void cur;
  const runStep = (s) =>
    s.pool
      ? rx.maxPool2d(s.input, { kernel: 3, stride: 2, padding: 1, out: s.out })
      : s.plan.run(s.input, { out: s.out, residual: s.residual });

  // alone + ort: one instance per distinct shape.
  const distinct = new Map();
  for (const s of steps) {
    if (s.pool || distinct.has(s.key)) continue;
    distinct.set(s.key, { s, ort: ortLayer(s.L, N, threads), count: 0 });
  }
  for (const s of steps) if (!s.pool) distinct.get(s.key).count++;

  const ortNet = ortNativeSession(networkModel(model, N, size), threads);
  const ortFeeds = { input: new ort.Tensor('float32', x.dataSync(), [N, 3, size, size]) };
  const ortFetches = { logits: new ort.Tensor('float32', new Float32Array(N * arch.numClasses), [N, arch.numClasses]) };

  const res = { net: [], ortNet: [], chainTotal: [], chain: steps.map(() => []), alone: new Map(), ort: new Map() };
  for (const k of distinct.keys()) {
    res.alone.set(k, []);
    res.ort.set(k, []);
  }
  // warm up
  await model.forward(x, { backend: 'cpu', mode: 'network' });
  ortNet.run(ortFeeds, ortFetches, {});
  for (const s of steps) runStep(s);
  const reps = N === 1 ? 5 : 2;
  for (let r = 0; r < rounds; r++) {
    let t = [];
    for (let i = 0; i < reps; i++) {
      const t0 = nowMs();
      await model.forward(x, { backend: 'cpu', mode: 'network' });
      t.push(nowMs() - t0);
    }
    res.net.push(Math.min(...t));
    t = [];
    for (let i = 0; i < reps; i++) {
      const t0 = nowMs();
      ortNet.run(ortFeeds, ortFetches, {});
      t.push(nowMs() - t0);
    }
    res.ortNet.push(Math.min(...t));
    const per = steps.map(() => []);
    t = [];
    for (let i = 0; i < reps; i++) {
      const t1 = nowMs();
      steps.forEach((s, j) => {
        const t0 = nowMs();
        runStep(s);
        per[j].push(nowMs() - t0);
      });
      t.push(nowMs() - t1);
    }
    res.chainTotal.push(Math.min(...t));
    per.forEach((v, j) => res.chain[j].push(Math.min(...v)));
    for (const [k, d] of distinct) {
      const a = [];
      const o = [];
      runStep(d.s);
      d.ort();
      for (let i = 0; i < reps; i++) {
        let t0 = nowMs();
        runStep(d.s);
        a.push(nowMs() - t0);
        t0 = nowMs();
        d.ort();
        o.push(nowMs() - t0);
      }
      res.alone.get(k).push(Math.min(...a));
      res.ort.get(k).push(Math.min(...o));
    }
  }

  // Aggregate per distinct shape (chain time summed over its occurrences).
  const rows = [];
  const chainByKey = new Map();
  steps.forEach((s, j) => chainByKey.set(s.key, (chainByKey.get(s.key) || 0) + median(res.chain[j])));
  const macsOf = (L) => {
    const P = outSize(L.H, L.c.kernel, L.c.stride, L.c.padding);
    return N * L.c.outC * P * P * (L.c.inC / L.c.groups) * L.c.kernel * L.c.kernel;
  };
  for (const [k, d] of distinct) {
    const alone = median(res.alone.get(k));
    const ortMs = median(res.ort.get(k));
    rows.push({
      layer: k,
      impl: d.s.plan.info().impl,
      count: d.count,
      gmacs: (macsOf(d.s.L) * d.count) / 1e9,
      chainMs: chainByKey.get(k),
      aloneMs: alone * d.count,
      ortMs: ortMs * d.count,
    });
  }
  const pool = chainByKey.get('maxpool 3x3/2');
  const sum = (f) => rows.reduce((acc, r) => acc + r[f], 0);
  return {
    model: name,
    batch: N,
    threads,
    netMs: median(res.net),
    ortNetMs: median(res.ortNet),
    chainTotalMs: median(res.chainTotal),
    chainConvMs: sum('chainMs'),
    chainPoolMs: pool,
    aloneMs: sum('aloneMs'),
    ortLayersMs: sum('ortMs'),
    gmacs: sum('gmacs'),
    rows,
  };
}

function markdown(r) {
  const f = (v) => v.toFixed(v < 1 ? 3 : v < 10 ? 2 : 1);
  const lines = [];
  lines.push(`### ${r.model}, batch ${r.batch}, ${r.threads} threads`);
  lines.push('');
  lines.push(`| | ms |`);
  lines.push(`|---|---|`);
  lines.push(`| ours, whole forward (network program) | ${f(r.netMs)} |`);
  lines.push(`| ORT, whole graph | ${f(r.ortNetMs)} |`);
  lines.push(`| ours, the chain of plans + max pool, one whole pass | ${f(r.chainTotalMs)} |`);
  lines.push(`| ours, convs as a chain of plans (sum of per-layer times) | ${f(r.chainConvMs)} (+ max pool ${f(r.chainPoolMs)}) |`);
  lines.push(`| ours, each layer alone (sum) | ${f(r.aloneMs)} |`);
  lines.push(`| ORT, each layer alone as a one-node graph (sum) | ${f(r.ortLayersMs)} |`);
  lines.push('');
  lines.push(
    '| layer (C->K kernel stride groups @H) | ours impl | n | GMAC | chain ms | alone ms | ORT alone ms | ORT/alone | alone/chain |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  const rows = [...r.rows].sort((a, b) => b.chainMs - a.chainMs);
  for (const x of rows) {
    lines.push(
      `| ${x.layer} | ${x.impl} | ${x.count} | ${x.gmacs.toFixed(3)} | ${f(x.chainMs)} | ${f(x.aloneMs)} | ${f(x.ortMs)} | ${(x.ortMs / x.aloneMs).toFixed(2)} | ${(x.aloneMs / x.chainMs).toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const all = [];
  for (const N of a.batch) {
    for (const m of a.models) {
      const r = await profile(m, N, a.rounds, a.threads);
      all.push(r);
      console.log(markdown(r));
      console.log('');
    }
  }
  if (a.json) fs.writeFileSync(a.json, JSON.stringify({ cpu: rx.cpuInfo(), results: all }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
