// Several worker_threads computing at once, each with its own thread count:
// every worker sets a different count, runs conv2d and conv2dAsync on
// x=[2,64,20,20] w=[64,2,3,3] groups 32, one-shot conv2d on x=[1,512,7,7]
// w=[512,16,3,3] groups 32 (the weight compare on its own pool, a weight
// changed between calls) and a fused resnext forward, and
// compares with the float64 reference; the main thread's count must not move
// and its own results stay right meanwhile. Prints a JSON report; exit 0 when
// every check held.
const { Worker } = require('node:worker_threads');
const { pkg } = require('./_root');

const body = `
const { conv2d, conv2dAsync, getNumThreads, randn, resnext, setNumThreads } = require(${JSON.stringify(pkg)});
const relErr = (a, b) => { let d = 0, m = 0; for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); } return d / m; };
async function work(threads, seed) {
  if (threads !== null) setNumThreads(threads);
  const x = randn([2, 64, 20, 20], { seed }), w = randn([64, 2, 3, 3], { seed: seed + 1 });
  const opts = { groups: 32, padding: 1, activation: 'relu' };
  const ref = conv2d(x, w, { ...opts, backend: 'reference' }).dataSync();
  let err = 0;
  for (let i = 0; i < 5; i++) {
    err = Math.max(err, relErr(conv2d(x, w, { ...opts, backend: 'cpu' }).dataSync(), ref));
    const ys = await Promise.all([conv2dAsync(x, w, { ...opts, backend: 'cpu' }), conv2dAsync(x, w, { ...opts, backend: 'cpu' })]);
    for (const y of ys) err = Math.max(err, relErr(y.dataSync(), ref));
  }
  // One-shot conv2d with 295 KB of weights: its cache compares them on this environment's own pool; a change
  // to the last element between calls must be seen.
  const xb = randn([1, 512, 7, 7], { seed: seed + 3 }), wb = randn([512, 16, 3, 3], { seed: seed + 4 });
  for (let i = 0; i < 4; i++) {
    if (i === 2) wb.dataSync()[wb.dataSync().length - 1] += 1;
    const refb = conv2d(xb, wb, { groups: 32, padding: 1, backend: 'reference' }).dataSync();
    err = Math.max(err, relErr(conv2d(xb, wb, { groups: 32, padding: 1, backend: 'cpu' }).dataSync(), refb));
  }
  const m = resnext({ depth: 50, cardinality: 2, width: 2, numClasses: 5, seed });
  const xi = randn([1, 3, 32, 32], { seed: seed + 2 });
  const fused = (await m.forward(xi, { backend: 'cpu' })).dataSync();
  const refm = (await m.forward(xi, { backend: 'reference' })).dataSync();
  err = Math.max(err, relErr(fused, refm));
  return { threads: getNumThreads(), err };
}
`;

(async () => {
  const { work, setNumThreads, getNumThreads } = eval(`(() => { ${body}; return { work, setNumThreads, getNumThreads }; })()`);
  setNumThreads(2);
  const counts = [1, 3, 2];
  const workers = counts.map(
    (n, i) =>
      new Promise((resolve, reject) => {
        const w = new Worker(`${body}; work(${n}, ${10 * i}).then((r) => require('node:worker_threads').parentPort.postMessage(r));`, {
          eval: true,
        });
        let result = null;
        w.on('message', (m) => (result = m));
        w.once('error', reject);
        w.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`worker ${i} exit ${code}`))));
      }),
  );
  const mainResult = await work(null, 99);
  const results = await Promise.all(workers);
  const report = { main: mainResult, mainThreadsAfter: getNumThreads(), workers: results };
  console.log(JSON.stringify(report));
  const ok =
    report.mainThreadsAfter === 2 &&
    mainResult.threads === 2 &&
    mainResult.err <= 1e-4 &&
    results.every((r, i) => r.threads === counts[i] && r.err <= 1e-4);
  process.exitCode = ok ? 0 : 1;
})();
