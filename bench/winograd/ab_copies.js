'use strict';
// One dense 3x3 conv alone with its weights cold: each call runs the next of
// `--copies` plans of the same shape (each with its own packed weights), so
// that with enough copies the packed weights come from memory as inside a
// whole network forward (48 copies of ResNet-50's 256@14 F(4x4) weights: 451
// MB). Candidates, interleaved per round in rotating order in one process:
// `old` (DIR's build, its own kernel choice; only with --old), `new` (this
// checkout, its own choice) and each --impl forced in this checkout. Per
// round and candidate: the median of `--calls` calls; the output gives the
// medians over rounds, each candidate's median per-round ratio against the
// first candidate, and the largest difference of its output from the first
// candidate's (relative to the largest output) as a sanity check. Writes
// nothing.
//
//   node bench/winograd/ab_copies.js [--old DIR] [--impl winograd43_otf_avx512] [--shape 256@14]
//        [--batch 1,2,8] [--copies 48] [--rounds 9] [--calls 48] [--threads 2]
//
// --shape C@H (dense, C -> C channels, HxH input, padding 1); several comma-separated.
const path = require('path');

function parseArgs(argv) {
  const a = {
    old: null,
    impls: ['winograd43_otf_avx512'],
    shapes: ['256@14'],
    batch: [1],
    copies: 48,
    rounds: 9,
    calls: 48,
    threads: 2,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new RangeError(`Expected a value after ${k} but received nothing`);
    if (k === '--old') a.old = path.resolve(v);
    else if (k === '--impl') a.impls = v.split(',').filter((s) => s.length > 0);
    else if (k === '--shape') a.shapes = v.split(',');
    else if (k === '--batch') a.batch = v.split(',').map(Number);
    else if (k === '--copies') a.copies = Number(v);
    else if (k === '--rounds') a.rounds = Number(v);
    else if (k === '--calls') a.calls = Number(v);
    else if (k === '--threads') a.threads = Number(v);
    else throw new RangeError(`Expected one of --old, --impl, --shape, --batch, --copies, --rounds, --calls, --threads but received ${k}`);
  }
  for (const s of a.shapes) {
    if (!/^\d+@\d+$/.test(s)) throw new RangeError(`Expected --shape C@H (e.g. 256@14) but received ${s}`);
  }
  return a;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];

function main() {
  const a = parseArgs(process.argv.slice(2));
  const here = require(path.resolve(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
  const cands = [];
  if (a.old !== null) cands.push({ label: 'old', rx: require(path.join(a.old, 'dist', 'cjs', 'index.js')), impl: null });
  cands.push({ label: 'new', rx: here, impl: null });
  for (const impl of a.impls) cands.push({ label: `new ${impl}`, rx: here, impl });
  for (const c of cands) c.rx.setNumThreads(a.threads);
  console.log(
    `${a.old ? `old: ${a.old}; ` : ''}new: this checkout; ${a.threads} threads, ${a.copies} copies, ` +
      `${a.rounds} rounds of ${a.calls} calls, medians (ms)`,
  );
  for (const shape of a.shapes) {
    const [C, H] = shape.split('@').map(Number);
    for (const N of a.batch) {
      const runs = cands.map((c) => {
        const x = c.rx.randn([N, C, H, H], { seed: 3 });
        const plans = [];
        for (let i = 0; i < a.copies; i++) {
          const w = c.rx.randn([C, C, 3, 3], { seed: 1 + i });
          plans.push(c.rx.conv2dPlan(w, { padding: 1, bias: c.rx.randn([C], { seed: 2 }), ...(c.impl ? { impl: c.impl } : {}) }));
        }
        const out = plans[0].run(x);
        return { ...c, x, plans, out, first: Float32Array.from(out.dataSync()), times: [], next: 0 };
      });
      const ref = runs[0].first;
      let max = 0;
      for (const v of ref) max = Math.max(max, Math.abs(v));
      for (let r = 0; r < a.rounds; r++) {
        for (let j = 0; j < runs.length; j++) {
          const e = runs[(j + r) % runs.length];
          const ts = [];
          for (let i = 0; i < a.calls; i++) {
            const p = e.plans[e.next];
            e.next = (e.next + 1) % e.plans.length;
            const s = now();
            p.run(e.x, { out: e.out });
            ts.push(now() - s);
          }
          e.times.push(median(ts));
        }
      }
      const f = (v) => v.toFixed(4);
      for (const e of runs) {
        let diff = 0;
        for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - e.first[i]));
        const ratio = median(runs[0].times.map((t, i) => t / e.times[i]));
        console.log(
          `${C}@${H} N=${N} ${e.label} (${e.plans[0].info().impl}): ${f(median(e.times))} (min ${f(Math.min(...e.times))}), ` +
            `${runs[0].label}/this ${ratio.toFixed(3)}, max|diff|/max ${(diff / max).toExponential(1)}`,
        );
      }
      for (const e of runs) for (const p of e.plans) p.dispose();
    }
  }
}

main();
