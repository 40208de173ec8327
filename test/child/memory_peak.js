// Peak and held memory of the weight path (no --expose-gc needed: peaks are
// high-water marks). Usage: memory_peak.js load FILE | prepare
//   load FILE: the VmHWM growth (MiB) of loadSafetensors(FILE), which should
//     hold the tensors once, not the file and the tensors;
//   prepare: the ArrayBuffer bytes (MiB) a prepared resnext50_32x4d holds
//     after garbage collection, against its own weights' size: the engine
//     must not keep a second (folded) copy of the weights once they are
//     packed into native memory (needs --expose-gc).
// Prints one JSON line.
const fs = require('node:fs');
const { pkg } = require('./_root');
const r = require(pkg);

const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
const mode = process.argv[2];
if (mode === 'load') {
  const before = kib('VmHWM');
  const w = r.loadSafetensors(process.argv[3]);
  const growMiB = (kib('VmHWM') - before) / 1024;
  let floats = 0;
  for (const t of w.values()) floats += t.size;
  console.log(JSON.stringify({ growMiB, tensorsMiB: (floats * 4) / 2 ** 20 }));
} else if (mode === 'prepare') {
  const m = r.presets.resnext50_32x4d({ seed: 1 });
  let floats = 0;
  for (const t of m.stateDict().values()) floats += t.size;
  m.prepare({ backend: 'cpu' });
  // V8 frees dead ArrayBuffers' memory on a background sweeper after a full GC: on a busy machine it can
  // lag, so collect and yield a few times and keep the lowest reading.
  (async () => {
    let held = Infinity;
    for (let i = 0; i < 5; i++) {
      global.gc();
      await new Promise((r) => setTimeout(r, 20));
      held = Math.min(held, process.memoryUsage().arrayBuffers);
    }
    console.log(JSON.stringify({ heldMiB: held / 2 ** 20, weightsMiB: (floats * 4) / 2 ** 20 }));
  })();
} else throw new RangeError(`Expected 'load' or 'prepare' for mode but received ${mode}`);
