// Whole-network forwards of the CPU lowering in each activation layout
// ('auto': layer1 and layer2 blocked; 'blocked': every stage that has blocked
// kernels; 'nchw': none) against onnxruntime-node's whole graph, interleaved in
// one process: each round runs every variant `reps` times and keeps the
// fastest; the table gives the median over rounds, each variant's ratio to
// ORT (ORT time / ours, > 1: ours faster) from the medians and, in brackets,
// the median of the per-round ratios (robust to a round slowed by another
// process), and the same two against our 'nchw' layout. Prints a markdown
// table; writes nothing. Needs dist/ (node scripts/build-ts.js).
//
//   node bench/blocked/layouts.js [--models resnext50_32x4d,resnet50] [--batch 1,8]
//        [--rounds 5] [--threads 2] [--size 224] [--layouts auto,nchw,blocked]
'use strict';

const path = require('path');

const root = path.join(__dirname, '..', '..');
const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
const ort = require('onnxruntime-node');
const { ortNativeSession } = require('../ort_session');
const { networkModel } = require(path.join(root, 'dist', 'cjs', 'onnx', 'export.js'));

function args() {
  const a = {
    models: ['resnext50_32x4d', 'resnet50'],
    batch: [1, 8],
    rounds: 5,
    threads: 2,
    size: 224,
    layouts: ['auto', 'nchw', 'blocked'],
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, ''),
      v = argv[i + 1];
    if (k === 'models' || k === 'layouts') a[k] = v.split(',');
    else if (k === 'batch') a.batch = v.split(',').map(Number);
    else if (k in a) a[k] = Number(v);
    else throw new Error(`unknown option --${k}`);
  }
  return a;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function bench(name, N, a) {
  const x = rx.randn([N, 3, a.size, a.size], { seed: 3 });
  const variants = [];
  const ref = rx.presets[name]({ seed: 1 });
  const onnx = ortNativeSession(networkModel(ref, N, a.size), a.threads);
  const feeds = { input: new ort.Tensor('float32', x.dataSync(), [N, 3, a.size, a.size]) };
  const fetches = {
    logits: new ort.Tensor('float32', new Float32Array(N * ref.architecture.numClasses), [N, ref.architecture.numClasses]),
  };
  variants.push({ label: 'ORT', run: async () => onnx.run(feeds, fetches, {}) });
  for (const layout of a.layouts) {
    const m = rx.presets[name]({ seed: 1 });
    m.prepare({ backend: 'cpu', layout });
    const blocked = m.planInfo().filter((c) => c.layout !== 'NCHW').length;
    variants.push({ label: `ours ${layout} (${blocked} convs blocked)`, run: () => m.forward(x, { backend: 'cpu', layout }) });
  }
  for (const v of variants) await v.run(); // warm up: plans, arenas, ORT's first run
  const reps = N === 1 ? 5 : 2;
  const times = variants.map(() => []);
  for (let r = 0; r < a.rounds; r++) {
    // Rotate the order every round so no variant always follows the same one.
    for (let j = 0; j < variants.length; j++) {
      const k = (j + r) % variants.length;
      let best = Infinity;
      for (let i = 0; i < reps; i++) {
        const t0 = nowMs();
        await variants[k].run();
        best = Math.min(best, nowMs() - t0);
      }
      times[k].push(best);
    }
  }
  const nchw = variants.findIndex((v) => v.label.startsWith('ours nchw'));
  const ratio = (base, i) =>
    base < 0
      ? '-'
      : `${(median(times[base]) / median(times[i])).toFixed(3)} (${median(times[i].map((t, r) => times[base][r] / t)).toFixed(3)})`;
  const lines = [
    `### ${name}, batch ${N}, ${a.threads} threads, ${a.size}x${a.size}, ${a.rounds} rounds`,
    '',
    '| variant | median ms | min ms | ORT / variant | ours nchw / variant |',
    '|---|---|---|---|---|',
  ];
  variants.forEach((v, i) => {
    lines.push(
      `| ${v.label} | ${median(times[i]).toFixed(2)} | ${Math.min(...times[i]).toFixed(2)} | ${ratio(0, i)} | ${ratio(nchw, i)} |`,
    );
  });
  return lines.join('\n');
}

(async () => {
  const a = args();
  rx.setNumThreads(a.threads);
  for (const name of a.models) for (const N of a.batch) console.log(`${await bench(name, N, a)}\n`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
