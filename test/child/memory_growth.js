// Memory that comes back (run with --expose-gc): RSS growth of (a) 300 conv
// plans of a 2.25 MiB weight ([256, 256, 3, 3]), each created, run once and
// disposed in one synchronous loop, and (b) a 10,000-call conv2d loop
// (x=[1,32,14,14] w=[64,32,3,3]), both measured without letting the event
// loop turn. Prints {"plansMiB": ..., "conv2dMiB": ...}.
const { pkg } = require('./_root');
const r = require(pkg);

const mib = () => process.memoryUsage().rss / 2 ** 20;

const w = r.randn([256, 256, 3, 3], { seed: 1 });
const x = r.randn([1, 256, 8, 8], { seed: 2 });
// Warm-up: the pool's scratch and the allocator's arenas settle first.
for (let i = 0; i < 3; i++) r.conv2dPlan(w, { padding: 1, backend: 'cpu' }).run(x);
global.gc();
let before = mib();
for (let i = 0; i < 300; i++) {
  const plan = r.conv2dPlan(w, { padding: 1, backend: 'cpu' });
  plan.run(x);
  plan.dispose();
}
const plansMiB = mib() - before;

const x2 = r.randn([1, 32, 14, 14], { seed: 3 });
const w2 = r.randn([64, 32, 3, 3], { seed: 4 });
for (let i = 0; i < 100; i++) r.conv2d(x2, w2, { padding: 1, backend: 'cpu' });
global.gc();
before = mib();
for (let i = 0; i < 10000; i++) r.conv2d(x2, w2, { padding: 1, backend: 'cpu' });
const conv2dMiB = mib() - before;
console.log(JSON.stringify({ plansMiB: Math.round(plansMiB), conv2dMiB: Math.round(conv2dMiB) }));
