#!/usr/bin/env node
'use strict';
// Peak resident memory of a batch-1 whole-network forward, ours against
// onnxruntime-node, as a user would run each: a fresh Node process loads the
// weights from a file (ours: a safetensors file; ORT: the ONNX file our
// exporter writes for the same weights), runs one forward (224x224, 2
// threads) and reports its peak RSS (VmHWM of /proc/self/status: the high-water
// mark of every page the process had resident: V8's heap, ArrayBuffers, native
// allocations, thread stacks and the shared libraries it touched; not
// getrusage's ru_maxrss, which on Linux keeps the parent's peak across
// fork + exec), its RSS
// after the forward, and, for reference, the peak RSS of a bare Node process
// that only required the runtime. Each runtime runs in its own child,
// alternating, --rounds times; cells are medians (min-max).
//
// Ours runs two ways: the weights option given the file's path (the tensors
// read become the model's own) and given loadSafetensors(path)'s map (which
// the model copies, so the map is garbage at the forward's peak unless
// collected).
//
// Usage: node bench/networks/memory.js [--model resnext50_32x4d] [--rounds 3] [--runs 1]
// Writes its two weight files to a temporary directory (removed at the end); nothing tracked.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const MB = 1024 * 1024;

function parseArgs(argv) {
  const a = { model: 'resnext50_32x4d', rounds: 3, runs: 1, child: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--model') a.model = v;
    else if (k === '--rounds') a.rounds = Number(v);
    else if (k === '--runs') a.runs = Number(v);
    else if (k === '--child') a.child = JSON.parse(v);
    else throw new RangeError(`Expected one of --model, --rounds, --runs but received ${k}`);
  }
  for (const k of ['rounds', 'runs'])
    if (!(Number.isInteger(a[k]) && a[k] >= 1)) throw new RangeError(`Expected a positive integer for --${k} but received ${a[k]}`);
  return a;
}

function usage() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { peakMB: kb('VmHWM') / 1024, rssMB: kb('VmRSS') / 1024 };
}

async function child({ runtime, file, model, runs }) {
  const x = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i));
  if (runtime === 'bare-ours' || runtime === 'bare-ort') {
    require(runtime === 'bare-ours' ? path.join(root, 'dist', 'cjs', 'index.js') : 'onnxruntime-node');
  } else if (runtime === 'ours' || runtime === 'ours-map') {
    const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
    rx.setNumThreads(2);
    // 'ours': weights by path (read straight into the model); 'ours-map': through a loadSafetensors map, copied.
    const m = rx.presets[model]({ weights: runtime === 'ours' ? file : rx.loadSafetensors(file) });
    const t = rx.tensor(x, [1, 3, 224, 224]);
    for (let i = 0; i < runs; i++) await m.forward(t, { backend: 'cpu' });
  } else {
    const ort = require('onnxruntime-node');
    const s = await ort.InferenceSession.create(file, {
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
    for (let i = 0; i < runs; i++) await s.run(feeds);
  }
  process.stdout.write(JSON.stringify(usage()));
}

const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const cell = (v) => `${med(v).toFixed(0)} (${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)})`;

function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) return child(a.child);
  const rx = require(path.join(root, 'dist', 'cjs', 'index.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-memory-'));
  try {
    const m = rx.presets[a.model]({ seed: 1 });
    const st = path.join(dir, 'model.safetensors');
    const onnx = path.join(dir, 'model.onnx');
    rx.saveSafetensors(st, m.stateDict());
    fs.writeFileSync(onnx, m.toOnnx());
    const runtimes = [
      { name: 'ours', file: st },
      { name: 'ours-map', file: st },
      { name: 'ort', file: onnx },
      { name: 'bare-ours', file: null },
      { name: 'bare-ort', file: null },
    ];
    const res = Object.fromEntries(runtimes.map((r) => [r.name, { peakMB: [], rssMB: [] }]));
    for (let r = 0; r < a.rounds; r++) {
      for (const rt of runtimes) {
        const out = spawnSync(
          process.execPath,
          [__filename, '--child', JSON.stringify({ runtime: rt.name, file: rt.file, model: a.model, runs: a.runs })],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
          },
        );
        if (out.status !== 0) throw new Error(`child ${rt.name} failed: ${out.stderr}`);
        const u = JSON.parse(out.stdout);
        res[rt.name].peakMB.push(u.peakMB);
        res[rt.name].rssMB.push(u.rssMB);
      }
    }
    const mb = (f) => (fs.statSync(f).size / MB).toFixed(0);
    console.log(
      `${a.model}, batch 1, 224x224, 2 threads, ${a.runs} forward(s) per process, ${a.rounds} processes each; weights: safetensors ${mb(st)} MiB, ONNX ${mb(onnx)} MiB; ${require(path.join(root, 'dist', 'cjs', 'cli', 'machine.js')).cpuLabel()}; Node ${process.version}`,
    );
    console.log('runtime | peak RSS MiB | RSS after MiB');
    const label = {
      ours: 'ours (weights: path.safetensors -> forward)',
      'ours-map': 'ours (weights: loadSafetensors(path) -> forward)',
      ort: 'onnxruntime-node (ONNX file -> run)',
      'bare-ours': 'Node + require(resnext) only',
      'bare-ort': 'Node + require(onnxruntime-node) only',
    };
    for (const rt of runtimes) console.log(`${label[rt.name]} | ${cell(res[rt.name].peakMB)} | ${cell(res[rt.name].rssMB)}`);
    console.log(`ours / ORT peak RSS (medians): ${(med(res.ours.peakMB) / med(res.ort.peakMB)).toFixed(2)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
