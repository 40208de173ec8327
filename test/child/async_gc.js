// Async calls whose arrays only the call itself references (run with
// --expose-gc): conv runAsync, maxPool2dAsync, globalAvgPoolAsync and
// linearAsync with inputs and outputs allocated inside the call, garbage
// collected and overwritten while they run; each result must equal the
// synchronous one bit for bit, and the input must be unchanged afterwards.
const path = require('node:path');
const { pkg, root } = require('./_root');
const r = require(pkg);

const sameBits = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
const churn = () => {
  for (let i = 0; i < 3; i++) {
    global.gc();
    const a = [];
    for (let j = 0; j < 4; j++) a.push(new Float32Array(2 ** 21).fill(1e30));
  }
};

(async () => {
  const results = [];
  const w = r.randn([256, 8, 3, 3], { seed: 2 });
  const shape = [2, 256, 56, 56];
  const plan = r.conv2dPlan(w, { groups: 32, padding: 1, backend: 'cpu' });
  const want = plan.run(r.randn(shape, { seed: 1 })).dataSync();
  const pending = [];
  for (let i = 0; i < 4; i++) pending.push(plan.runAsync(r.randn(shape, { seed: 1 })));
  churn();
  for (const p of pending) results.push(['conv2d runAsync', sameBits((await p).dataSync(), want)]);

  const xs = [2, 64, 30, 30];
  const mp = r.maxPool2d(r.randn(xs, { seed: 5 }), { backend: 'cpu' }).dataSync();
  const gp = r.globalAvgPool(r.randn(xs, { seed: 5 }), { backend: 'cpu' }).dataSync();
  const lw = r.randn([100, 4096], { seed: 6 });
  const lin = r.linear(r.randn([8, 4096], { seed: 7 }), lw, null, { backend: 'cpu' }).dataSync();
  const p1 = r.maxPool2dAsync(r.randn(xs, { seed: 5 }), { backend: 'cpu' });
  const p2 = r.globalAvgPoolAsync(r.randn(xs, { seed: 5 }), { backend: 'cpu' });
  const p3 = r.linearAsync(r.randn([8, 4096], { seed: 7 }), r.randn([100, 4096], { seed: 6 }), null, { backend: 'cpu' });
  churn();
  results.push(['maxPool2dAsync', sameBits((await p1).dataSync(), mp)]);
  results.push(['globalAvgPoolAsync', sameBits((await p2).dataSync(), gp)]);
  results.push(['linearAsync', sameBits((await p3).dataSync(), lin)]);

  // The addon's own async entry points, with output arrays that only the call references: the
  // call must keep them (it writes the result there when it settles) and resolve.
  const addon = require(path.join(root, 'dist', 'cjs', 'binding.js')).cpuBinding();
  const native = new addon.ConvPlan(w.dataSync(), [256, 8, 3, 3], null, {
    groups: 32,
    stride: [1, 1],
    dilation: [1, 1],
    padding: [1, 1, 1, 1],
    activation: 'none',
  });
  const direct = [];
  for (let i = 0; i < 4; i++) direct.push(native.runAsync(r.randn(shape, { seed: 1 }).dataSync(), shape, new Float32Array(want.length), null));
  direct.push(addon.maxPool2dAsync(r.randn(xs, { seed: 5 }).dataSync(), xs, new Float32Array(mp.length), [3, 3, 2, 2, 1, 1]));
  direct.push(addon.linearAsync(r.randn([8, 4096], { seed: 7 }).dataSync(), [8, 4096], lw.dataSync(), [100, 4096], null, new Float32Array(800)));
  churn();
  const settled = await Promise.allSettled(direct);
  results.push(['addon runAsync/maxPool2dAsync/linearAsync with unreferenced outputs resolve', settled.every((s) => s.status === 'fulfilled')]);
  native.dispose();

  const x = r.randn(shape, { seed: 1 });
  const copy = x.dataSync().slice();
  await plan.runAsync(x);
  results.push(['conv2d runAsync leaves its input unchanged', sameBits(x.dataSync(), copy)]);
  plan.dispose();
  for (const [name, ok] of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  process.exitCode = results.every(([, ok]) => ok) ? 0 : 1;
})();
