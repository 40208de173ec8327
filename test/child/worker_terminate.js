// A worker keeps two conv2dAsync calls on x=[4,256,56,56], groups 32 in
// flight; the main thread terminates it after 200 ms, ten times. Exit 0 and
// "ok" when the process survived every termination.
const { Worker } = require('node:worker_threads');
const { pkg } = require('./_root');

const code = `
const { conv2dAsync, randn } = require(${JSON.stringify(pkg)});
const x = randn([4, 256, 56, 56], { seed: 1 });
const w = randn([256, 8, 3, 3], { seed: 2 });
const loop = () => Promise.all([
  conv2dAsync(x, w, { groups: 32, padding: 1, activation: 'relu' }),
  conv2dAsync(x, w, { groups: 32, padding: 1 }),
]).then(loop);
require('node:worker_threads').parentPort.postMessage('started');
loop();
`;

async function once() {
  const worker = new Worker(code, { eval: true });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await new Promise((r) => setTimeout(r, 200));
  await worker.terminate();
}

(async () => {
  for (let i = 0; i < 10; i++) await once();
  console.log('ok');
})();
