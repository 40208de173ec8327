// The main thread never loads the package; a worker does one conv2d and exits
// normally, so Node unloads the addon with it. Twenty workers in a row, 8 pool
// threads each (oversubscribed, so some are still spinning at exit), with a
// pause after each (the pool's threads would still be spinning in unloaded
// code). Exit 0 and "ok" when the process survived.
const { Worker } = require('node:worker_threads');
const { pkg } = require('./_root');

const code = `
const { conv2d, randn, setNumThreads } = require(${JSON.stringify(pkg)});
setNumThreads(8);
const y = conv2d(randn([1, 64, 28, 28], { seed: 1 }), randn([64, 2, 3, 3], { seed: 2 }), { groups: 32, padding: 1 });
require('node:worker_threads').parentPort.postMessage(y.shape.join('x'));
`;

(async () => {
  for (let i = 0; i < 20; i++) {
    const worker = new Worker(code, { eval: true });
    let shape = null;
    worker.on('message', (m) => (shape = m));
    const exitCode = await new Promise((resolve, reject) => {
      worker.once('exit', resolve);
      worker.once('error', reject);
    });
    if (exitCode !== 0 || shape !== '1x64x28x28') throw new Error(`worker ${i}: exit ${exitCode}, shape ${shape}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log('ok');
})();
