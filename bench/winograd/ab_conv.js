'use strict';
// One conv layer alone, two builds of the package interleaved in one process:
// DIR's (a base commit's checkout with its addon and dist/ built, as for
// bench/networks/ab_builds.js) against this checkout's. Per case, each round
// times `--reps` back-to-back calls of conv2dPlan(w).run(x, { out }) in each
// build (order alternating per round) and keeps their median; the output
// gives the medians over rounds, the median of per-round old/new ratios, the
// minima, and the largest difference between the two builds' outputs
// (relative to the largest output) as a sanity check.
//
//   node bench/winograd/ab_conv.js --old DIR [--cases REGEX] [--batch 1,8] [--rounds 11] [--threads 2]
//   node bench/winograd/ab_conv.js --impls OLD,NEW [...]
//
// --impls compares two kernels of this checkout instead, each forced by name
// (conv2dPlan's `impl`), e.g. grouped3x3s2_avx512,grouped3x3_bcast8_avx512.
//
// Cases: ResNeXt-50 32x4d's grouped 3x3 layers (bench/peers/cases.js).
const path = require('path');
const { allCases } = require('../peers/cases');

function parseArgs(argv) {
  const a = { old: null, impls: null, cases: /g32/, batch: [1, 8], rounds: 11, threads: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new RangeError(`Expected a value after ${k} but received nothing`);
    if (k === '--old') a.old = path.resolve(v);
    else if (k === '--impls') a.impls = v.split(',');
    else if (k === '--cases') a.cases = new RegExp(v);
    else if (k === '--batch') a.batch = v.split(',').map(Number);
    else if (k === '--rounds') a.rounds = Number(v);
    else if (k === '--threads') a.threads = Number(v);
    else throw new RangeError(`Expected one of --old, --impls, --cases, --batch, --rounds, --threads but received ${k}`);
  }
  if (a.impls !== null && a.impls.length !== 2) throw new RangeError(`Expected --impls OLD,NEW but received ${a.impls.join(',')}`);
  if ((a.old === null) === (a.impls === null)) {
    throw new RangeError('Expected --old DIR (a built checkout of the base commit) or --impls OLD,NEW (two kernels of this one)');
  }
  return a;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];

function main() {
  const a = parseArgs(process.argv.slice(2));
  const here = require(path.resolve(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
  const builds = { old: a.old ? require(path.join(a.old, 'dist', 'cjs', 'index.js')) : here, new: here };
  const impl = { old: a.impls?.[0], new: a.impls?.[1] };
  for (const rx of Object.values(builds)) rx.setNumThreads(a.threads);
  const cpu = here.cpuInfo();
  const what = a.impls ? `old: ${a.impls[0]}; new: ${a.impls[1]} (this checkout)` : `old: ${a.old}; new: this checkout`;
  console.log(`${what}; CPU family ${cpu?.family}, model ${cpu?.model}; ${a.threads} threads, ${a.rounds} rounds, medians (ms)`);
  const seen = new Set();
  for (const c of allCases()) {
    if (!a.cases.test(c.name) || seen.has(c.name)) continue;
    seen.add(c.name);
    for (const N of a.batch) {
      const peers = {};
      for (const [k, rx] of Object.entries(builds)) {
        const w = rx.randn([c.K, c.C / c.groups, c.R, c.S], { seed: 1 });
        const plan = rx.conv2dPlan(w, {
          groups: c.groups,
          stride: c.stride,
          padding: c.pad,
          bias: rx.randn([c.K], { seed: 2 }),
          ...(impl[k] ? { impl: impl[k] } : {}),
        });
        const x = rx.randn([N, c.C, c.H, c.W], { seed: 3 });
        peers[k] = { plan, x, out: plan.run(x), times: [] };
      }
      const o = peers.old.out.dataSync();
      const n = peers.new.out.dataSync();
      let diff = 0;
      let max = 0;
      for (let i = 0; i < o.length; i++) {
        diff = Math.max(diff, Math.abs(o[i] - n[i]));
        max = Math.max(max, Math.abs(o[i]));
      }
      // About 20 ms of calls per build and round.
      const t0 = now();
      peers.new.plan.run(peers.new.x, { out: peers.new.out });
      const reps = Math.max(5, Math.min(400, Math.round(20 / Math.max(now() - t0, 0.01))));
      for (let r = 0; r < a.rounds; r++) {
        for (const k of r % 2 ? ['new', 'old'] : ['old', 'new']) {
          const p = peers[k];
          for (let i = 0; i < 3; i++) p.plan.run(p.x, { out: p.out });
          const ts = [];
          for (let i = 0; i < reps; i++) {
            const s = now();
            p.plan.run(p.x, { out: p.out });
            ts.push(now() - s);
          }
          p.times.push(median(ts));
        }
      }
      const ratios = peers.old.times.map((t, i) => t / peers.new.times[i]);
      const f = (v) => v.toFixed(4);
      console.log(
        `${c.name} N=${N}: old ${f(median(peers.old.times))} (min ${f(Math.min(...peers.old.times))}), ` +
          `new ${f(median(peers.new.times))} (min ${f(Math.min(...peers.new.times))}), ` +
          `old/new ${median(ratios).toFixed(3)}; impl ${peers.new.plan.info().impl}; ` +
          `max|new-old|/max|old| ${(diff / max).toExponential(1)}`,
      );
      for (const p of Object.values(peers)) p.plan.dispose();
    }
  }
}

main();
