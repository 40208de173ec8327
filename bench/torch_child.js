'use strict';
// A PyTorch child process for the benchmarks (bench/peers, bench/networks):
// /usr/bin/python3 running a helper script that answers one JSON line per
// request. PyTorch is optional: available() says why it cannot run (no
// /usr/bin/python3, or `import torch` fails there), and the benchmarks then
// leave it out and say so.

const { spawn, spawnSync } = require('child_process');
const readline = require('readline');

const PYTHON = process.env.RESNEXT_TORCH_PYTHON || '/usr/bin/python3';

/** { ok: true, version } or { ok: false, reason }. */
function available() {
  const r = spawnSync(PYTHON, ['-c', 'import torch, sys; sys.stdout.write(torch.__version__)'], { encoding: 'utf8', timeout: 60000 });
  if (r.error) return { ok: false, reason: `${PYTHON} could not be run (${r.error.code || r.error.message})` };
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop();
    return { ok: false, reason: `\`${PYTHON} -c 'import torch'\` failed: ${last}` };
  }
  return { ok: true, version: r.stdout.trim() };
}

/** Starts `script` under PYTHON; request(msg) resolves with its answer, or rejects with its error. */
function start(script) {
  const child = spawn(PYTHON, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  let exited = null;
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (!w) return;
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      w.reject(new Error(`torch child: unexpected output ${line.slice(0, 200)}`));
      return;
    }
    if (m.ok) w.resolve(m);
    else w.reject(new Error(`torch: ${m.error}`));
  });
  child.on('exit', (code) => {
    exited = code;
    for (const w of waiting.splice(0)) w.reject(new Error(`torch child exited with code ${code}`));
  });
  return {
    request(msg) {
      if (exited !== null) return Promise.reject(new Error(`torch child exited with code ${exited}`));
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(JSON.stringify(msg) + '\n');
      });
    },
    close() {
      if (exited === null) child.stdin.end(JSON.stringify({ cmd: 'exit' }) + '\n');
    },
  };
}

module.exports = { available, start, PYTHON };
