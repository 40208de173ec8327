'use strict';
// Builds bench/peak/peak.cc with g++ -O3 (into build/bench/, rebuilt when the
// source is newer) and runs it: the machine's measured fp32 FMA peak and copy
// bandwidth, the denominators of "% of peak" in bench:peers and bench:networks.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const src = path.join(__dirname, 'peak.cc');
const bin = path.join(root, 'build', 'bench', 'peak');

function buildPeak() {
  const stale = !fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs;
  if (stale) {
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    execFileSync('g++', ['-O3', '-std=c++17', '-pthread', src, '-o', bin], { stdio: 'inherit' });
  }
  return bin;
}

/**
 * The measured peak, with the one rule every tool applies (`peakFor` in
 * lib/cli/peak.ts, which `resnext bench` uses): an N-thread figure well under
 * N x the 1-thread one was taken while another process held a core, so the
 * scaled 1-thread figure replaces it ("% of peak" errs low, never high). The
 * raw figure stays in `measured_best`. Needs the compiled package (dist/).
 */
function measurePeak(maxThreads = 2) {
  const out = JSON.parse(execFileSync(buildPeak(), [String(maxThreads)], { encoding: 'utf8' }));
  const { peakFor } = require(path.join(root, 'dist', 'cjs', 'cli', 'peak.js'));
  const raw = out.fma.map((e) => ({ ...e }));
  out.fma = raw.map((e) => ({ ...e, measured_best: e.gflops_best, gflops_best: peakFor(raw, e.isa, e.threads).gflops }));
  return out;
}

function gxxVersion() {
  try {
    return execFileSync('g++', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return 'unknown';
  }
}

module.exports = { measurePeak, gxxVersion };

if (require.main === module) console.log(JSON.stringify(measurePeak(Number(process.argv[2] || 2)), null, 2));
