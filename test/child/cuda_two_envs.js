// The CUDA addon loaded by the main thread and by a worker at once, each
// using its classes' constructors (DeviceBuffer's parent check and
// instanceof test run before any CUDA call, so no GPU is needed): with
// process-global constructor references the second environment overwrote
// the first's (a V8 fatal error). Exit 0 and "ok" when both environments
// got their own TypeErrors and the process survived the worker's exit.
const { Worker } = require('node:worker_threads');
const { addon } = require('./_root');

const probe = `
const b = require(${JSON.stringify(addon)});
const out = [];
for (let i = 0; i < 50; i++) {
  try { new b.DeviceBuffer(0, 0, {}); out.push('no error'); } catch (e) { out.push(e.constructor.name + ': ' + e.message); }
}
out[0];
`;

(async () => {
  const main = eval(probe);
  const worker = new Worker(`require('node:worker_threads').parentPort.postMessage(eval(${JSON.stringify(probe)}))`, { eval: true });
  let fromWorker = null;
  worker.on('message', (m) => (fromWorker = m));
  const code = await new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  const again = eval(probe);
  for (const [who, msg] of [['main', main], ['worker', fromWorker], ['main after the worker exited', again]]) {
    if (!/^TypeError: parent: expected a DeviceBuffer/.test(String(msg))) throw new Error(`${who}: ${msg}`);
  }
  if (code !== 0) throw new Error(`worker exit ${code}`);
  console.log('ok');
})();
