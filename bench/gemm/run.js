'use strict';
// GEMM conv kernel micro-benchmark: builds bench/gemm/bench.cc (g++ -O3, into
// build/bench/gemm/) against two builds of conv_gemm_{avx512,avx2}.cc, the
// working tree's ("new") and a base commit's ("old", default: the merge base
// with main; extracted with `git show` into build/bench/gemm/old/), and runs
// it per batch and thread count. Prints per layer and mode (alone: weights
// warm; chain: weights cold, see bench.cc) the medians over interleaved
// samples, GFLOP/s and % of the measured fp32 FMA peak (bench/peak) of the
// median and of the fastest sample (a shared machine's medians include other
// processes), and old/new (> 1: new faster): the ratio of the medians and, in brackets, the
// median of the ratios of adjacent samples.
//
// Usage: node bench/gemm/run.js [--batch 1,8] [--threads 1,2] [--samples 11]
//        [--isa avx512|avx2] [--set small|large|all] [--base REV] [--peak1 G --peak2 G]
//        [--kernel gemm|blocked1x1]
// --kernel blocked1x1 compares the two builds of the blocked 1x1 kernel
// (conv_blocked1x1_<isa>.cc) on blocked tensors instead, 1x1 layers only.
// Writes only build/bench/gemm/.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const outDir = path.join(root, 'build', 'bench', 'gemm');

function parseArgs(argv) {
  const a = { batch: [1, 8], threads: [1, 2], samples: 11, isa: 'avx512', set: 'small', base: null, peak: {}, kernel: 'gemm' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (k === 'batch' || k === 'threads') a[k] = v.split(',').map(Number);
    else if (k === 'samples') a.samples = Number(v);
    else if (k === 'isa' || k === 'set' || k === 'base' || k === 'kernel') a[k] = v;
    else if (k === 'peak1' || k === 'peak2') a.peak[Number(k.slice(4))] = Number(v);
    else throw new Error(`unknown option --${k}`);
  }
  return a;
}

function git(args) {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
}

function compile(src, obj, defs = []) {
  const cxx = (process.env.CXX || 'g++').split(' ');
  const args = [
    ...cxx.slice(1),
    '-O3',
    '-std=c++17',
    '-fno-math-errno',
    '-pthread',
    ...defs,
    '-I',
    path.join(root, 'native', 'include'),
    '-c',
    src,
    '-o',
    obj,
  ];
  execFileSync(cxx[0], args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function build(base) {
  const rev = git(['rev-parse', base]).trim();
  const oldDir = path.join(outDir, 'old', rev);
  const objDir = path.join(outDir, 'obj');
  fs.mkdirSync(objDir, { recursive: true });
  const objs = ['gemm_avx512', 'gemm_avx2', 'blocked1x1_avx512', 'blocked1x1_avx2'].map((f) => path.join(oldDir, `${f}.o`));
  if (!fs.existsSync(path.join(oldDir, 'done')) || !objs.every((f) => fs.existsSync(f))) {
    fs.mkdirSync(oldDir, { recursive: true });
    for (const f of git(['ls-tree', '--name-only', rev, 'native/cpu/'])
      .split('\n')
      .filter((f) => /\.(inc|cc)$/.test(f))) {
      fs.writeFileSync(path.join(oldDir, path.basename(f)), git(['show', `${rev}:${f}`]));
    }
    for (const isa of ['avx512', 'avx2']) {
      const impl = isa === 'avx512' ? 'kConvGemmAvx512' : 'kConvGemmAvx2';
      compile(path.join(oldDir, `conv_gemm_${isa}.cc`), path.join(oldDir, `gemm_${isa}.o`), [`-D${impl}=${impl}Old`]);
      const blocked = isa === 'avx512' ? 'kBlockedConv1x1Avx512' : 'kBlockedConv1x1Avx2';
      const nchw = isa === 'avx512' ? 'kConvBlocked1x1Avx512' : 'kConvBlocked1x1Avx2';
      compile(path.join(oldDir, `conv_blocked1x1_${isa}.cc`), path.join(oldDir, `blocked1x1_${isa}.o`), [
        `-D${blocked}=${blocked}Old`,
        `-D${nchw}=${nchw}Old`,
      ]);
    }
    fs.writeFileSync(path.join(oldDir, 'done'), rev);
  }
  const cpu = path.join(root, 'native', 'cpu');
  for (const src of [
    path.join(__dirname, 'bench.cc'),
    ...['conv_gemm_avx512.cc', 'conv_gemm_avx2.cc', 'conv_blocked1x1_avx512.cc', 'conv_blocked1x1_avx2.cc', 'thread_pool.cc'].map((f) =>
      path.join(cpu, f),
    ),
  ]) {
    const obj = path.join(objDir, path.basename(src).replace(/\.cc$/, '.o'));
    compile(src, obj);
    objs.push(obj);
  }
  const bin = path.join(outDir, 'bench');
  const cxx = (process.env.CXX || 'g++').split(' ');
  execFileSync(cxx[0], [...cxx.slice(1), '-pthread', ...objs, '-o', bin], { stdio: 'inherit' });
  return { bin, rev };
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const base = a.base ?? git(['merge-base', 'HEAD', 'main']).trim();
  const { bin, rev } = build(base);
  for (const t of a.threads) {
    if (!a.peak[t]) a.peak[t] = require('../peak/build.js').peakGflops(require('../peak/build.js').measurePeak(2), t);
  }
  console.log(
    `old = ${rev.slice(0, 10)} (base), new = working tree; peak fp32 FMA GFLOP/s: ${a.threads.map((t) => `${t} thr ${a.peak[t].toFixed(0)}`).join(', ')}`,
  );
  for (const N of a.batch) {
    for (const t of a.threads) {
      const out = execFileSync(bin, [String(N), String(t), String(a.samples), a.isa, a.set, '-1', a.kernel], {
        encoding: 'utf8',
      });
      console.log(`\n### ${a.kernel}, batch ${N}, ${t} thread(s), ${a.isa}, ${a.samples} interleaved samples\n`);
      console.log(
        '| layer | mode | old ms (min) | new ms (min) | old/new (paired) | new GFLOP/s | new % peak | old % peak | max rel diff |',
      );
      console.log('(GFLOP/s and % of peak from the fastest sample: on a shared machine the medians include other processes)');
      console.log('|---|---|---|---|---|---|---|---|---|');
      for (const line of out.trim().split('\n')) {
        const r = JSON.parse(line);
        const mo = median(r.old),
          mn = median(r.new);
        const paired = median(r.old.map((o, i) => o / r.new[i]));
        const bo = Math.min(...r.old),
          bn = Math.min(...r.new);
        const gf = (ms) => (2 * r.macs) / ms / 1e6;
        const name = `${r.net} ${r.R > 1 ? `${r.R}x${r.R} ` : ''}${r.C}->${r.K}@${r.P}${r.stride > 1 ? `/s${r.stride}` : ''}${r.res ? ' +res' : ''}`;
        console.log(
          `| ${name} | ${r.mode} | ${mo.toFixed(3)} (${bo.toFixed(3)}) | ${mn.toFixed(3)} (${bn.toFixed(3)}) | ${(mo / mn).toFixed(2)} (${paired.toFixed(2)}) | ${gf(mn).toFixed(0)} (${gf(bn).toFixed(0)}) | ${((100 * gf(mn)) / a.peak[t]).toFixed(0)}% (${((100 * gf(bn)) / a.peak[t]).toFixed(0)}%) | ${((100 * gf(mo)) / a.peak[t]).toFixed(0)}% (${((100 * gf(bo)) / a.peak[t]).toFixed(0)}%) | ${r.err.toExponential(1)} |`,
        );
      }
    }
  }
}

main();
