'use strict';
// Child process of bench/networks/run.js: holds one runtime ('ours': our CPU
// backend, one native job per forward; 'ours-layer': the same fused network
// as one async native call per layer; 'ours-direct': 'ours' with algorithm
// 'direct' (no Winograd); 'ort': onnxruntime-node on the graph
// from onnx_network.js; 'torch': torchvision's model in PyTorch, through
// torch_runner.py; 'ort-torch': onnxruntime-node on the graph torch.onnx.export
// writes for torchvision's model) with one model at one batch size, and times blocks of
// runs on request. Each runtime lives in its own process, as the peer
// measurements in shared/research did, so one runtime's idle or spinning
// worker threads and allocator state never sit inside the other's process.
// Every runner builds the same weights (same seed, same BN statistics) and
// input, and reports its logits so the parent checks agreement before timing.
//
// Messages in: { cmd: 'prepare', runtime, model, batch, size, threads, tmpDir } | { cmd: 'time', reps } | { cmd: 'exit' }
// Messages out: { ok: true, logits, info? } | { ok: true, times } | { ok: false, error }

const fs = require('fs');
const path = require('path');
const torchChild = require('../torch_child');

const root = path.resolve(__dirname, '..', '..');
const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));

/** Deterministic non-trivial BN statistics, so folding is exercised (Kaiming init alone has mean 0 / var 1). */
function randomizeBatchNorm(model, seed) {
  let s = seed >>> 0;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (const [name, t] of model.stateDict()) {
    const d = t.dataSync();
    if (name.endsWith('running_mean')) for (let i = 0; i < d.length; i++) d[i] = 0.2 * (u() - 0.5);
    else if (name.endsWith('running_var')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + u();
    else if (t.shape.length === 1 && name.endsWith('.weight')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + 0.5 * u();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let run = null;
let timeBlock = null;
// Our network mode only: one forward timed step by step (model.profile(), same options as run).
let profileRun = null;

/** torchvision's model with these weights in a PyTorch child; with onnxPath, also exported there. */
async function startTorch(model, name, x, batch, size, threads, tmpDir, onnxPath) {
  const status = torchChild.available();
  if (!status.ok) throw new Error(`PyTorch unavailable: ${status.reason}`);
  fs.mkdirSync(tmpDir, { recursive: true });
  const stem = path.join(tmpDir, `net-${name}-${batch}-${process.pid}`);
  rx.saveSafetensors(`${stem}.safetensors`, model.stateDict());
  fs.writeFileSync(`${stem}.input.bin`, Buffer.from(x.dataSync().buffer, x.dataSync().byteOffset, x.dataSync().byteLength));
  const child = torchChild.start(path.join(__dirname, 'torch_runner.py'));
  const res = await child.request({
    cmd: 'prepare',
    model: name,
    batch,
    size,
    threads,
    weights: `${stem}.safetensors`,
    input: `${stem}.input.bin`,
    onnx: onnxPath ?? null,
  });
  fs.rmSync(`${stem}.safetensors`, { force: true });
  fs.rmSync(`${stem}.input.bin`, { force: true });
  return { child, res };
}

async function prepare({ runtime, model: name, batch, size, threads, tmpDir }) {
  const model = rx.presets[name]({ seed: 1 });
  randomizeBatchNorm(model, 2);
  const x = rx.randn([batch, 3, size, size], { seed: 3 });
  if (runtime === 'torch') {
    const { child, res } = await startTorch(model, name, x, batch, size, threads, tmpDir, null);
    timeBlock = (reps) => child.request({ cmd: 'time', reps });
    process.on('exit', () => child.close());
    return { logits: res.logits, info: { torchVersion: res.version, torchLayout: res.layout, torchLayoutMs: res.layoutMs } };
  }
  if (runtime === 'ort' || runtime === 'ort-torch') {
    const ort = require('onnxruntime-node');
    let graph;
    if (runtime === 'ort-torch') {
      const onnxPath = path.join(tmpDir, `net-${name}-${batch}-${process.pid}.onnx`);
      const { child } = await startTorch(model, name, x, batch, size, threads, tmpDir, onnxPath);
      child.close();
      graph = fs.readFileSync(onnxPath);
      fs.rmSync(onnxPath, { force: true });
    } else {
      const { networkModel } = require(path.join(root, 'dist', 'cjs', 'onnx', 'export.js'));
      graph = networkModel(model, batch, size);
    }
    const session = await ort.InferenceSession.create(graph, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.dataSync(), [batch, 3, size, size]) };
    run = () => session.run(feeds);
    const logits = (await run())[session.outputNames[0]].data;
    return { logits: Array.from(logits), info: { ortVersion: require('onnxruntime-node/package.json').version } };
  }
  rx.setNumThreads(threads);
  const mode = runtime === 'ours-layer' ? 'layer' : 'network';
  const algorithm = runtime === 'ours-direct' ? 'direct' : 'auto';
  run = () => model.forward(x, { backend: 'cpu', mode, algorithm });
  if (mode === 'network') profileRun = () => model.profile(x, { backend: 'cpu', algorithm });
  const logits = (await run()).dataSync();
  const impls = {};
  for (const p of model.planInfo()) impls[p.impl] = (impls[p.impl] || 0) + 1;
  return { logits: Array.from(logits), info: { impls, cpuInfo: rx.cpuInfo() } };
}

/** A pause and one untimed run first: the previous block's runtime may still have threads spinning. */
async function time({ reps }) {
  if (timeBlock) return { times: (await timeBlock(reps)).times };
  await sleep(100);
  await run();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { times };
}

/**
 * reps profiled forwards back to back after a pause and an untimed forward (as time() times them): per forward its
 * whole-call ms and each step's name, op and ms (the caller sums what it needs per forward, so that a sum and
 * the whole it is compared with come from the same forward).
 */
async function profile({ reps }) {
  if (!profileRun) throw new Error('profile: only our network mode runs model.profile()');
  const runs = [];
  await sleep(100);
  await run();
  for (let i = 0; i < reps; i++) {
    const p = await profileRun();
    runs.push({ totalMs: p.totalMs, steps: p.steps.map((s) => ({ name: s.name, op: s.op, ms: s.ms })) });
  }
  return { runs };
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'exit') process.exit(0);
    const out = msg.cmd === 'prepare' ? await prepare(msg) : msg.cmd === 'profile' ? await profile(msg) : await time(msg);
    process.send({ ok: true, ...out });
  } catch (err) {
    process.send({ ok: false, error: err && err.stack ? err.stack : String(err) });
  }
});
