#!/usr/bin/env node
'use strict';
// Batch-1 latency distribution of a whole-network forward (default
// resnext50_32x4d, 2 threads): p10 / p50 / p90 over many runs, back-to-back
// (each forward starts when the last one resolves) and after an idle gap
// (a sleep before each forward, as an app that classifies now and then).
// A bimodal distribution (p90 far above p10) shows threads that went to
// sleep between or within forwards.
//
// A/B: --pkg DIR[,NAME=VALUE...] ... times several builds of the package (a
// directory with package.json, dist/ and build/Release/), each optionally
// with environment variables (e.g. RESNEXT_POOL_SPIN_US=300), alternating
// child processes A, B, A, B, ... so that other load on the machine lands on
// all of them alike.
//
// --ort adds onnxruntime-node on the same network (our ONNX export, same
// weights, 2 intra-op threads, sequential) as one more alternating child, so
// a wide distribution can be told apart from the machine's own noise: if
// ORT's p90/p10 is as wide, the spread is the machine's, not our pool's.
// --threads N sets the thread count of every runtime (default 2).
//
// Usage: node bench/networks/latency.js [--runs 120] [--gap-ms 20] [--model resnext50_32x4d] [--threads 2] [--ort] [--pkg DIR[,NAME=VALUE...]]...
// Prints a table; writes nothing.

const path = require('path');
const { spawnSync } = require('child_process');

function parseArgs(argv) {
  const a = { runs: 120, gapMs: 20, model: 'resnext50_32x4d', pkgs: [], child: null, rounds: 4, threads: 2, ort: false };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--ort') {
      a.ort = true;
      i--;
    } else if (k === '--threads') a.threads = Number(v);
    else if (k === '--runs') a.runs = Number(v);
    else if (k === '--gap-ms') a.gapMs = Number(v);
    else if (k === '--model') a.model = v;
    else if (k === '--pkg') {
      const [dir, ...env] = v.split(',');
      a.pkgs.push({ dir: path.resolve(dir), env: Object.fromEntries(env.map((e) => e.split('='))), label: v });
    } else if (k === '--rounds') a.rounds = Number(v);
    else if (k === '--child') a.child = JSON.parse(v);
    else throw new RangeError(`Expected one of --runs, --gap-ms, --model, --threads, --ort, --pkg, --rounds but received ${k}`);
  }
  if (!(Number.isInteger(a.threads) && a.threads >= 1))
    throw new RangeError(`Expected a positive integer for --threads but received ${a.threads}`);
  if (!(a.runs >= 10)) throw new RangeError(`Expected at least 10 for --runs but received ${a.runs}`);
  if (a.pkgs.length === 0) a.pkgs.push({ dir: path.resolve(__dirname, '..', '..'), env: {}, label: '.' });
  if (a.ort) a.pkgs.push({ dir: a.pkgs[0].dir, env: {}, label: 'onnxruntime-node', ort: true });
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A forward function for our model or for ORT's session on its ONNX export. */
async function makeForward(rx, m, x, { ort, threads }) {
  if (!ort) return () => m.forward(x, { backend: 'cpu' });
  const o = require('onnxruntime-node');
  const session = await o.InferenceSession.create(m.toOnnx(), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = { [session.inputNames[0]]: new o.Tensor('float32', x.dataSync(), [...x.shape]) };
  return () => session.run(feeds);
}

async function child({ pkg, model, runs, gapMs, ort, threads }) {
  const rx = require(path.join(pkg, 'dist', 'cjs', 'index.js'));
  rx.setNumThreads(threads);
  const m = rx.presets[model]({ seed: 1 });
  const x = rx.randn([1, 3, 224, 224], { seed: 2 });
  const forward = await makeForward(rx, m, x, { ort, threads });
  for (let i = 0; i < 3; i++) await forward();
  const out = { backToBack: [], afterGap: [] };
  for (let i = 0; i < runs; i++) {
    // Alternate the two modes so both see the same machine conditions.
    for (const mode of ['backToBack', 'afterGap']) {
      if (mode === 'afterGap') await sleep(gapMs);
      const t0 = process.hrtime.bigint();
      await forward();
      out[mode].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  process.stdout.write(JSON.stringify(out));
}

function pct(v, p) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) return child(a.child);
  const per = Math.ceil(a.runs / a.rounds);
  const acc = a.pkgs.map(() => ({ backToBack: [], afterGap: [] }));
  for (let r = 0; r < a.rounds; r++) {
    a.pkgs.forEach((pkg, i) => {
      const res = spawnSync(
        process.execPath,
        [
          __filename,
          '--child',
          JSON.stringify({ pkg: pkg.dir, model: a.model, runs: per, gapMs: a.gapMs, ort: !!pkg.ort, threads: a.threads }),
        ],
        {
          encoding: 'utf8',
          maxBuffer: 1 << 24,
          env: { ...process.env, ...pkg.env },
        },
      );
      if (res.status !== 0) throw new Error(`child for ${pkg.label} failed: ${res.stderr}`);
      const o = JSON.parse(res.stdout);
      acc[i].backToBack.push(...o.backToBack);
      acc[i].afterGap.push(...o.afterGap);
    });
  }
  console.log(
    `${a.model}, batch 1, ${a.threads} thread(s), ${per * a.rounds} forwards per mode and build, ${a.rounds} alternating child processes per build; load average ${require('os')
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  console.log('build | mode | p10 ms | p50 ms | p90 ms | p90/p10');
  a.pkgs.forEach((pkg, i) => {
    for (const mode of ['backToBack', 'afterGap']) {
      const v = acc[i][mode];
      const [p10, p50, p90] = [pct(v, 10), pct(v, 50), pct(v, 90)];
      console.log(
        `${pkg.label} | ${mode === 'backToBack' ? 'back-to-back' : `after a ${a.gapMs} ms gap`} | ${p10.toFixed(2)} | ${p50.toFixed(2)} | ${p90.toFixed(2)} | ${(p90 / p10).toFixed(2)}`,
      );
    }
  });
}

main();
