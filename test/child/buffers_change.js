// Buffers that change under a call (run with --expose-gc): an input
// transferred away while conv2dAsync runs, an `out` transferred away while
// plan.runAsync runs, and resizable / growable buffers (shrunk to 0 while a
// call runs, when they are accepted at all). A call must compute on memory
// that stays alive until it settles, or reject before it starts; it must never
// read or write freed memory. Prints one line per case; exit 0 when all held.
const path = require('node:path');
const { pkg, root } = require('./_root');
const r = require(pkg);

const checks = [];
const check = (name, ok, detail) => checks.push({ name, ok: !!ok, detail });
const garbage = () => {
  // Freed memory gets reused (and overwritten) by new allocations.
  const keep = [];
  for (let i = 0; i < 8; i++) keep.push(new Float32Array(4 * 256 * 56 * 56).fill(1e30));
  return keep.length;
};
const sameBits = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

(async () => {
  const shape = [4, 256, 56, 56];
  const w = r.randn([256, 8, 3, 3], { seed: 2 });
  const opts = { groups: 32, padding: 1, backend: 'cpu' };
  const expected = r.conv2d(r.randn(shape, { seed: 1 }), w, opts).dataSync();

  // 1. The input transferred away while the call runs.
  {
    const x = r.randn(shape, { seed: 1 });
    const pending = r.conv2dAsync(x, w, opts);
    structuredClone(x.dataSync().buffer, { transfer: [x.dataSync().buffer] });
    global.gc();
    garbage();
    let y = null,
      err = null;
    try {
      y = await pending;
    } catch (e) {
      err = e;
    }
    check('input transferred during conv2dAsync: computes on the input as it was', y && sameBits(y.dataSync(), expected), err ? String(err) : '');
  }

  // 2. out transferred away while plan.runAsync runs: rejected, nothing written to freed memory.
  {
    const plan = r.conv2dPlan(w, { groups: 32, padding: 1, backend: 'cpu' });
    const x = r.randn(shape, { seed: 1 });
    const out = r.tensor(new Float32Array(expected.length), shape);
    const pending = plan.runAsync(x, { out });
    structuredClone(out.dataSync().buffer, { transfer: [out.dataSync().buffer] });
    global.gc();
    garbage();
    let err = null;
    try {
      await pending;
    } catch (e) {
      err = e;
    }
    check('out transferred during plan.runAsync: rejects with ERR_RESNEXT_DETACHED', err && err.code === 'ERR_RESNEXT_DETACHED', String(err));
    // The plan still works afterwards.
    const y = await plan.runAsync(x);
    check('the plan still runs correctly after that', sameBits(y.dataSync(), expected));
    plan.dispose();
  }

  // 3. Resizable input and out, shrunk to 0 while the call runs (if accepted at all).
  for (const which of ['input', 'out']) {
    const n = expected.length;
    const ab = new ArrayBuffer(n * 4, { maxByteLength: n * 4 });
    const arr = new Float32Array(ab);
    let err = null;
    try {
      const x = which === 'input' ? r.tensor(arr, shape) : r.randn(shape, { seed: 1 });
      if (which === 'input') arr.set(r.randn(shape, { seed: 1 }).dataSync());
      const out = which === 'out' ? r.tensor(arr, shape) : undefined;
      const pending = r.conv2dAsync(x, w, { ...opts, ...(out ? { out } : {}) });
      ab.resize(0);
      global.gc();
      garbage();
      await pending;
    } catch (e) {
      err = e;
    }
    check(`resizable ArrayBuffer as ${which}: RangeError naming it`, err instanceof RangeError && /resizable/.test(err.message), String(err));
  }

  // 4. The native boundary refuses them too (a direct addon call).
  {
    const addon = require(path.join(root, 'dist', 'cjs', 'binding.js')).cpuBinding();
    const plan = new addon.ConvPlan(new Float32Array(8 * 2 * 9), [8, 2, 3, 3], null, {
      groups: 4,
      stride: [1, 1],
      dilation: [1, 1],
      padding: [1, 1, 1, 1],
      activation: 'none',
    });
    const y = new Float32Array(8 * 25);
    for (const [name, buf] of [
      ['resizable', new ArrayBuffer(8 * 25 * 4, { maxByteLength: 8 * 25 * 8 })],
      ['growable', new SharedArrayBuffer(8 * 25 * 4, { maxByteLength: 8 * 25 * 8 })],
    ]) {
      let err = null;
      try {
        await plan.runAsync(new Float32Array(buf), [1, 8, 5, 5], y, null);
      } catch (e) {
        err = e;
      }
      check(`addon ConvPlan.runAsync with a ${name} input: RangeError`, err instanceof RangeError && /input/.test(err.message), String(err));
    }
  }

  for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok || !c.detail ? '' : ` (${c.detail})`}`);
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
})();
