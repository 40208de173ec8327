'use strict';
// Blocked-layout micro-benchmark: builds bench/blocked/bench.cc with the CPU
// kernels (g++ -O3, into build/bench/blocked/, rebuilt when a source is newer)
// and runs it for each batch and thread count: ResNeXt-50 32x4d's 1x1 layers
// in NCHW (the registry's gemm) vs NCHW16c (AVX-512; NCHW8c with AVX2) and
// one bottleneck per stage in each layout, interleaved in one process (see
// bench.cc). Prints a markdown table of medians (and minima) and the
// NCHW/blocked time ratios (> 1: the blocked layout is faster): of the
// medians, and the median of the ratios of adjacent samples.
//
// With --only dense3x3: ResNet-50's dense 3x3 layers instead, NCHW plan
// (Winograd / gemm) vs the blocked dense 3x3 kernel.
//
// Usage: node bench/blocked/run.js [--batch 1,8] [--threads 2,1] [--samples 15]
//        [--isa avx512|avx2|scalar] [--only dense3x3] [--json out.json]
// Writes only build/bench/blocked/ and --json.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const outDir = path.join(root, 'build', 'bench', 'blocked');

function sources() {
  const cpu = fs
    .readdirSync(path.join(root, 'native', 'cpu'))
    .filter((f) => f.endsWith('.cc'))
    .map((f) => path.join(root, 'native', 'cpu', f));
  const core = ['conv_plan.cc', 'validate.cc'].map((f) => path.join(root, 'native', 'core', f));
  return [path.join(__dirname, 'bench.cc'), ...core, ...cpu];
}

function newest(dir, ext) {
  let t = 0;
  for (const f of fs.readdirSync(dir)) if (f.endsWith(ext)) t = Math.max(t, fs.statSync(path.join(dir, f)).mtimeMs);
  return t;
}

function build() {
  fs.mkdirSync(path.join(outDir, 'obj'), { recursive: true });
  const cxx = process.env.CXX || 'g++';
  const [cmd, ...pre] = cxx.split(' ');
  const headers = Math.max(newest(path.join(root, 'native', 'include', 'resnext'), '.h'), newest(path.join(root, 'native', 'cpu'), '.inc'));
  const objs = [];
  for (const src of sources()) {
    const obj = path.join(outDir, 'obj', path.basename(src).replace(/\.cc$/, '.o'));
    objs.push(obj);
    if (fs.existsSync(obj) && fs.statSync(obj).mtimeMs > Math.max(fs.statSync(src).mtimeMs, headers)) continue;
    execFileSync(
      cmd,
      [...pre, '-O3', '-std=c++17', '-fno-math-errno', '-pthread', '-I', path.join(root, 'native', 'include'), '-c', src, '-o', obj],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  const bin = path.join(outDir, 'bench');
  execFileSync(cmd, [...pre, '-pthread', ...objs, '-o', bin], { stdio: 'inherit' });
  return bin;
}

function parseArgs(argv) {
  const a = { batch: [1, 8], threads: [2, 1], samples: 15, isa: 'avx512', only: null, json: null };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (k === 'batch' || k === 'threads') a[k] = v.split(',').map(Number);
    else if (k === 'samples') a.samples = Number(v);
    else if (k === 'isa' || k === 'json') a[k] = v;
    else if (k === 'only' && v === 'dense3x3') a.only = v;
    else throw new Error(`unknown option --${k}`);
  }
  return a;
}

function table(doc) {
  const f = (v) => v.toFixed(v < 1 ? 3 : 2);
  const lines = [
    `### batch ${doc.N}, ${doc.threads} thread(s), ${doc.isa} (NCHW${doc.cb}c), ${doc.samples} interleaved samples`,
    '',
    '| case | GMAC | NCHW ms (min) | blocked ms (min) | NCHW / blocked: medians (paired) | max rel err |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of doc.results) {
    const label =
      r.kind === 'stage'
        ? `${r.name} with conversions`
        : r.kind === 'chain'
          ? `bottleneck ${r.name}`
          : r.kind === 'body'
            ? `**${r.name}**`
            : `${r.kind} ${r.name}`;
    lines.push(
      `| ${label} | ${r.gmac.toFixed(3)} | ${f(r.nchw_med)} (${f(r.nchw_min)}) | ${f(r.blk_med)} (${f(r.blk_min)}) | ${(r.nchw_med / r.blk_med).toFixed(2)} (${r.ratio_med.toFixed(2)}) | ${r.err.toExponential(1)} |`,
    );
  }
  const sum = (kind, key) => doc.results.filter((r) => r.kind === kind).reduce((s, r) => s + r[key], 0);
  for (const kind of ['1x1', 'chain', '3x3']) {
    if (!doc.results.some((r) => r.kind === kind)) continue;
    const a = sum(kind, 'nchw_med'),
      b = sum(kind, 'blk_med');
    const am = sum(kind, 'nchw_min'),
      bm = sum(kind, 'blk_min');
    lines.push(
      `| **all ${kind === 'chain' ? 'bottlenecks' : `${kind} layers`}** (sum) | | ${f(a)} (${f(am)}) | ${f(b)} (${f(bm)}) | **${(a / b).toFixed(2)}** (minima: ${(am / bm).toFixed(2)}) | |`,
    );
  }
  return lines.join('\n');
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const bin = build();
  const docs = [];
  for (const N of a.batch) {
    for (const t of a.threads) {
      const doc = JSON.parse(
        execFileSync(bin, [String(N), String(t), String(a.samples), a.isa, ...(a.only ? [a.only] : [])], { encoding: 'utf8' }),
      );
      docs.push(doc);
      console.log(table(doc));
      console.log('');
    }
  }
  if (docs[0]) console.log(`CPU: ${docs[0].cpu}`);
  if (a.json) fs.writeFileSync(a.json, JSON.stringify(docs, null, 2));
}

main();
