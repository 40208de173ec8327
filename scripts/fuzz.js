#!/usr/bin/env node
// Property-based fuzzing of the public API and of every export of the CPU
// addon, with fast-check (a devDependency): random calls mixing well-formed
// and malformed arguments (wrong types, NaN/Infinity, negative, fractional and
// huge sizes, wrong lengths, aliasing buffers, Float64Arrays, resizable and
// detached buffers), sync and async, on the main thread and in worker_threads.
// The property: a call either succeeds (valid convolutions also match the
// float64 reference) or fails with a TypeError / RangeError / ResnextError (an
// addon call: an Error whose code is ERR_RESNEXT_*); the process never
// crashes. npm test runs a few thousand calls (test/fuzz.test.ts); run it
// under the sanitizers with `npm run test:asan`.
//
//   node scripts/fuzz.js [--calls N] [--seed S] [--workers W] [--json]
//
// Prints the calls made per target, the outcomes and the time; exit status 1
// on any property failure (a crash ends the process by itself).
'use strict';

const path = require('node:path');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const fc = require('fast-check');

const root = process.env.RESNEXT_TEST_ROOT || path.resolve(__dirname, '..');
const r = require(path.join(root, 'dist', 'cjs', 'index.js'));
const addon = require(path.join(root, 'dist', 'cjs', 'binding.js')).cpuBinding();

// ---- argument generators ---------------------------------------------------

const junk = fc.constantFrom(undefined, null, 'abc', true, {}, [], NaN, Infinity, -1, 1.5, 2 ** 31, -0, Symbol.iterator, () => 1, 10n);
const dim = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 9 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, NaN, 2 ** 40, 1e15) },
);
const smallInt = (max) => fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max }) }, { weight: 1, arbitrary: junk });
const pair = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), junk);

/** A Float32Array of n elements, or a malformed stand-in for one. */
function floats(n, rng) {
  const pick = rng();
  if (pick < 0.8 || !Number.isInteger(n) || n < 0 || n > 1 << 20) {
    const len = Number.isInteger(n) && n >= 0 && n <= 1 << 20 ? n : 7;
    const a = new Float32Array(len);
    for (let i = 0; i < len; i++) a[i] = rng() * 2 - 1;
    if (rng() < 0.1 && len > 0) a[Math.floor(rng() * len)] = [NaN, Infinity, -Infinity][Math.floor(rng() * 3)];
    return a;
  }
  if (pick < 0.84) return new Float32Array(Math.max(0, n - 1));
  if (pick < 0.88) return new Float64Array(n);
  if (pick < 0.92) return new Float32Array(new ArrayBuffer(n * 4, { maxByteLength: n * 4 + 16 }));
  if (pick < 0.96) {
    const a = new Float32Array(n);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  }
  return [1, 2, 3];
}

const seeded = (seed) => {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
};

// ---- the property ----------------------------------------------------------

const ADDON_CODE = /^ERR_RESNEXT_[A-Z_]+$/;
/** Throws unless err is an outcome the error model allows. */
function checkError(err, where, isAddon) {
  if (err instanceof TypeError || err instanceof RangeError) return err instanceof RangeError ? 'RangeError' : 'TypeError';
  if (err instanceof r.ResnextError && ADDON_CODE.test(err.code)) return `ResnextError ${err.code}`;
  if (isAddon && err instanceof Error && ADDON_CODE.test(err.code)) return `Error ${err.code}`;
  throw new Error(`${where}: unexpected ${err && err.constructor ? err.constructor.name : typeof err}: ${err && err.message}`);
}

const REL_TOL = 1e-4;
function relErr(a, b) {
  let d = 0,
    m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    if (!Number.isFinite(b[i]) || !Number.isFinite(a[i])) continue;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}

// Each target: [name, arbitrary of its case, run(case, rng) -> promise or value].
const convCase = fc.record({
  n: dim,
  cg: fc.integer({ min: 1, max: 5 }),
  g: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: junk }),
  kg: fc.integer({ min: 1, max: 5 }),
  h: dim,
  w: dim,
  r: fc.integer({ min: 1, max: 4 }),
  stride: pair,
  dilation: pair,
  padding: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)), junk),
  relu: fc.boolean(),
  bias: fc.boolean(),
  residual: fc.boolean(),
  algorithm: fc.constantFrom(undefined, 'auto', 'direct', 'fast'),
  async: fc.boolean(),
  seed: fc.nat(),
});

function tensorOr(shape, rng, seed) {
  if (rng() < 0.03) return [1, 2, 3];
  return r.randn(shape, { seed });
}

const targets = [
  [
    'conv2d / conv2dAsync',
    convCase,
    async (c) => {
      const rng = seeded(c.seed);
      const g = Number.isInteger(c.g) && c.g > 0 ? c.g : 1;
      const x = tensorOr(
        [c.n, c.cg * g, c.h, c.w].map((d) => (Number.isInteger(d) && d > 0 && d < 64 ? d : 3)),
        rng,
        c.seed,
      );
      const w = tensorOr([c.kg * g, c.cg, c.r, c.r], rng, c.seed + 1);
      const opts = { groups: c.g, stride: c.stride, dilation: c.dilation, padding: c.padding, activation: c.relu ? 'relu' : 'none' };
      if (c.bias) opts.bias = r.randn([c.kg * g], { seed: c.seed + 2 });
      if (c.algorithm !== undefined) opts.algorithm = c.algorithm;
      let ref;
      try {
        ref = r.conv2d(x, w, { ...opts, backend: 'reference' });
      } catch (e) {
        checkError(e, 'conv2d reference', false);
      }
      const run = () => (c.async ? r.conv2dAsync(x, w, { ...opts, backend: 'cpu' }) : r.conv2d(x, w, { ...opts, backend: 'cpu' }));
      const y = await run();
      if (!ref) throw new Error(`conv2d: cpu accepted what the reference refused: ${JSON.stringify(opts)}`);
      if (relErr(y.dataSync(), ref.dataSync()) > REL_TOL)
        throw new Error(`conv2d: cpu differs from the reference: ${JSON.stringify({ ...opts, bias: !!opts.bias })}`);
    },
  ],
  [
    'layers (maxPool2d, globalAvgPool, linear, relu, add, sync and async)',
    fc.record({
      op: fc.nat(6),
      n: dim,
      c: dim,
      h: dim,
      w: dim,
      k: pair,
      s: pair,
      p: fc.oneof(fc.nat(2), junk),
      async: fc.boolean(),
      seed: fc.nat(),
    }),
    async (c) => {
      const rng = seeded(c.seed);
      const ok = (d) => (Number.isInteger(d) && d > 0 && d < 64 ? d : 2);
      const x = tensorOr([ok(c.n), ok(c.c), ok(c.h), ok(c.w)], rng, c.seed);
      switch (c.op) {
        case 0:
          return c.async
            ? r.maxPool2dAsync(x, { kernel: c.k, stride: c.s, padding: c.p })
            : r.maxPool2d(x, { kernel: c.k, stride: c.s, padding: c.p });
        case 1:
          return c.async ? r.globalAvgPoolAsync(x) : r.globalAvgPool(x);
        case 2: {
          const f = r.randn([ok(c.n), ok(c.c)], { seed: c.seed });
          const wt = tensorOr([ok(c.h), rng() < 0.1 ? ok(c.c) + 1 : ok(c.c)], rng, c.seed + 1);
          const b = rng() < 0.5 ? r.randn([ok(c.h)], { seed: 3 }) : null;
          return c.async ? r.linearAsync(f, wt, b) : r.linear(f, wt, b);
        }
        case 3:
          return r.relu(x, rng() < 0.1 ? { backend: c.p } : undefined);
        case 4:
          return r.add(x, tensorOr(rng() < 0.1 ? [1, 2] : [...x.shape], rng, 4));
        case 5:
          return r.tensor(floats(ok(c.n) * ok(c.c), rng), [ok(c.n), c.c]);
        default:
          return r.randn([c.n, c.c], { seed: c.seed, std: rng() < 0.1 ? -1 : 1 });
      }
    },
  ],
  [
    'addon ConvPlan (new, run, runAsync, info, dispose)',
    fc.record({
      k: dim,
      cg: dim,
      g: smallInt(4),
      r: smallInt(4),
      n: dim,
      h: dim,
      w: dim,
      stride: smallInt(3),
      pad: smallInt(2),
      act: fc.constantFrom('none', 'relu', 'gelu', 3),
      op: fc.nat(4),
      seed: fc.nat(),
    }),
    async (c) => {
      const rng = seeded(c.seed);
      const K = Number.isInteger(c.k) && c.k > 0 && c.k < 64 ? c.k : 2;
      const Cg = Number.isInteger(c.cg) && c.cg > 0 && c.cg < 64 ? c.cg : 2;
      const R = Number.isInteger(c.r) && c.r > 0 ? c.r : 1;
      const wshape = rng() < 0.9 ? [K, Cg, R, R] : [c.k, c.cg, c.r, c.r];
      const plan = new addon.ConvPlan(floats(K * Cg * R * R, rng), wshape, rng() < 0.5 ? null : floats(K, rng), {
        groups: c.g,
        stride: [c.stride, c.stride],
        dilation: [1, 1],
        padding: [c.pad, c.pad, c.pad, c.pad],
        activation: c.act,
      });
      const g = Number.isInteger(c.g) && c.g > 0 ? c.g : 1;
      const N = Number.isInteger(c.n) && c.n > 0 && c.n < 8 ? c.n : 1;
      const H = Number.isInteger(c.h) && c.h > 0 && c.h < 32 ? c.h : 3;
      const W = Number.isInteger(c.w) && c.w > 0 && c.w < 32 ? c.w : 3;
      const s = Number.isInteger(c.stride) && c.stride > 0 ? c.stride : 1;
      const p = Number.isInteger(c.pad) && c.pad >= 0 ? c.pad : 0;
      const P = Math.max(0, Math.floor((H + 2 * p - R) / s) + 1),
        Q = Math.max(0, Math.floor((W + 2 * p - R) / s) + 1);
      const x = floats(N * Cg * g * H * W, rng);
      const y = floats(N * K * P * Q, rng);
      const res = rng() < 0.3 ? floats(N * K * P * Q, rng) : null;
      const shape = rng() < 0.9 ? [N, Cg * g, H, W] : [c.n, c.cg, c.h, c.w];
      if (c.op === 0) plan.info();
      if (c.op === 1) plan.dispose();
      try {
        if (c.op === 3) plan.run(x, shape, y, res);
        else await plan.runAsync(x, shape, y, res);
      } finally {
        plan.dispose();
      }
    },
  ],
  [
    'addon layers (maxPool2d, globalAvgPool, linear, sync and async)',
    fc.record({
      op: fc.nat(2),
      async: fc.boolean(),
      n: dim,
      c: dim,
      h: dim,
      w: dim,
      k: smallInt(4),
      s: smallInt(3),
      p: smallInt(2),
      seed: fc.nat(),
    }),
    async (c) => {
      const rng = seeded(c.seed);
      const ok = (d) => (Number.isInteger(d) && d > 0 && d < 32 ? d : 2);
      const [N, C, H, W] = [ok(c.n), ok(c.c), ok(c.h), ok(c.w)];
      const shape = rng() < 0.9 ? [N, C, H, W] : [c.n, c.c, c.h, c.w];
      const x = floats(N * C * H * W, rng);
      const call = (name, ...args) => (c.async ? addon[`${name}Async`](...args) : addon[name](...args));
      if (c.op === 0) {
        const k = Number.isInteger(c.k) && c.k > 0 ? c.k : 1,
          s = Number.isInteger(c.s) && c.s > 0 ? c.s : 1,
          p = Number.isInteger(c.p) && c.p >= 0 ? c.p : 0;
        const P = Math.max(0, Math.floor((H + 2 * p - k) / s) + 1),
          Q = Math.max(0, Math.floor((W + 2 * p - k) / s) + 1);
        const out = rng() < 0.1 ? x : floats(N * C * P * Q, rng);
        return call('maxPool2d', x, shape, out, [c.k, c.k, c.s, c.s, c.p, c.p]);
      }
      if (c.op === 1) return call('globalAvgPool', x, shape, floats(N * C, rng));
      return call(
        'linear',
        floats(N * C, rng),
        [N, C],
        floats(H * C, rng),
        rng() < 0.9 ? [H, C] : [c.h, c.c],
        rng() < 0.5 ? null : floats(H, rng),
        floats(N * H, rng),
      );
    },
  ],
  [
    'addon Network (new, addProgram, run, runAsync, dropProgram, info, dispose)',
    fc.record({
      c: fc.integer({ min: 1, max: 6 }),
      k: fc.integer({ min: 1, max: 6 }),
      h: fc.integer({ min: 1, max: 8 }),
      junkAt: fc.nat(12),
      bad: junk,
      op: fc.nat(5),
      seed: fc.nat(),
    }),
    async (c) => {
      const rng = seeded(c.seed);
      const maybe = (i, v) => (c.junkAt === i ? c.bad : v);
      const conv = {
        weight: floats(c.k * c.c * 9, rng),
        shape: maybe(0, [c.k, c.c, 3, 3]),
        bias: maybe(1, null),
        groups: maybe(2, 1),
        stride: maybe(3, [1, 1]),
        padding: maybe(4, [1, 1, 1, 1]),
        activation: maybe(5, 'relu'),
      };
      const net = new addon.Network(maybe(6, [conv]));
      const n = c.c * c.h * c.h;
      const out = floats(c.k * c.h * c.h, rng);
      const pooled = floats(c.k, rng);
      const id = net.addProgram(
        maybe(7, [
          { op: maybe(8, 'conv'), conv: maybe(9, 0), input: null, inputShape: [1, c.c, c.h, c.h], output: out, residual: null },
          { op: 'globalAvgPool', input: maybe(10, out), inputShape: [1, c.k, c.h, c.h], output: pooled },
        ]),
        maybe(11, n),
      );
      try {
        if (c.op === 0) net.run(id, floats(n, rng));
        else if (c.op === 1) await net.runAsync(id, floats(n, rng));
        else if (c.op === 2) {
          const p = net.runAsync(id, floats(n, rng));
          try {
            net.run(id, floats(n, rng)); // the program is running: refused
          } finally {
            await p;
          }
        } else if (c.op === 3) {
          net.dropProgram(id);
          net.run(id, floats(n, rng));
        } else net.info();
      } finally {
        net.dispose();
      }
    },
  ],
  [
    'addon settings (setNumThreads, getNumThreads, cpuInfo, setIsaCap)',
    fc.record({ op: fc.nat(3), v: fc.oneof(fc.integer({ min: 0, max: 4 }), junk, fc.constantFrom('scalar', 'avx2', 'avx512', 'sse')) }),
    async (c) => {
      if (c.op === 0) {
        const before = addon.getNumThreads();
        try {
          addon.setNumThreads(c.v);
        } finally {
          addon.setNumThreads(before);
        }
      } else if (c.op === 1) addon.cpuInfo();
      else if (c.op === 2) {
        const before = addon.cpuInfo().cap;
        try {
          addon.setIsaCap(c.v);
        } finally {
          addon.setIsaCap(before);
        }
      } else r.setNumThreads(c.v === 0 ? r.getNumThreads() : c.v);
    },
  ],
];

/** Runs `calls` calls spread over the targets; returns { calls, outcomes }. */
async function fuzz(calls, seed) {
  const outcomes = {};
  let made = 0;
  for (const [i, [name, arb, run]] of targets.entries()) {
    const numRuns = Math.floor(calls / targets.length) + (i < calls % targets.length ? 1 : 0);
    if (numRuns === 0) continue;
    const isAddon = name.startsWith('addon');
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        made++;
        let outcome = 'ok';
        try {
          await run(c);
        } catch (e) {
          outcome = checkError(e, name, isAddon);
        }
        outcomes[outcome] = (outcomes[outcome] || 0) + 1;
      }),
      { numRuns, seed: seed + i, endOnFailure: true },
    );
  }
  return { calls: made, outcomes };
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const calls = arg('calls', 100000),
    seed = arg('seed', 1),
    workers = arg('workers', 1);
  const t0 = process.hrtime.bigint();
  // Worker threads fuzz at the same time as the main thread (their own pools and environments).
  const inWorkers = Array.from({ length: workers }, (_, i) => {
    const w = new Worker(__filename, { workerData: { calls: Math.floor(calls / (workers + 1)), seed: seed + 1000 * (i + 1) } });
    return new Promise((resolve, reject) => {
      let result = null;
      w.on('message', (m) => (result = m));
      w.once('error', reject);
      w.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`fuzz worker ${i} exit ${code}`))));
    });
  });
  let failure = null;
  const results = [];
  try {
    results.push(await fuzz(calls - Math.floor(calls / (workers + 1)) * workers, seed));
    results.push(...(await Promise.all(inWorkers)));
  } catch (e) {
    failure = String(e && e.stack ? e.stack : e);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const total = { calls: 0, outcomes: {}, workers, seconds: Math.round(seconds * 10) / 10, failure };
  for (const res of results) {
    total.calls += res.calls;
    for (const [k, v] of Object.entries(res.outcomes)) total.outcomes[k] = (total.outcomes[k] || 0) + v;
  }
  if (args.includes('--json')) console.log(JSON.stringify(total));
  else {
    console.log(`fuzz: ${total.calls} calls (main thread + ${workers} worker${workers === 1 ? '' : 's'}) in ${total.seconds} s`);
    for (const [k, v] of Object.entries(total.outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${k}: ${v}`);
    if (failure) console.log(`FAILED: ${failure}`);
  }
  process.exitCode = failure ? 1 : 0;
}

if (require.main !== module) module.exports = { fuzz, targets };
else if (isMainThread) main();
else fuzz(workerData.calls, workerData.seed).then((res) => parentPort.postMessage(res));
