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
 * The measured peak, computed the one way every tool uses (lib/cli/peak.ts,
 * which `resnext bench` runs): the best of this measurement and the ones
 * `resnext bench` has cached for this CPU, and an N-thread figure well under
 * N x the 1-thread one (another process held a core) replaced by the scaled
 * 1-thread figure, so "% of peak" errs low, never high. The measured figure
 * stays in `measured_best`. Needs the compiled package (dist/).
 */
function measurePeak(maxThreads = 2) {
  const out = JSON.parse(execFileSync(buildPeak(), [String(maxThreads)], { encoding: 'utf8' }));
  const peak = require(path.join(root, 'dist', 'cjs', 'cli', 'peak.js'));
  const { cpuInfo } = require(path.join(root, 'dist', 'cjs', 'index.js'));
  const info = cpuInfo();
  const cached = info ? peak.measurePeak(info.cap, maxThreads).entries : [];
  const entries = peak.mergePeaks(out.fma, cached);
  out.fma = entries.map((e) => {
    const measured = out.fma.find((m) => m.isa === e.isa && m.threads === e.threads);
    return { ...e, measured_best: measured ? measured.gflops_best : null, gflops_best: peak.peakFor(entries, e.isa, e.threads).gflops };
  });
  return out;
}

/**
 * GFLOP/s of the peak for a thread count at the ISA our kernels use (cpuInfo().cap), from measurePeak()'s
 * output: the one figure every tool divides by for "% of peak".
 */
function peakGflops(peak, threads) {
  const { cpuInfo } = require(path.join(root, 'dist', 'cjs', 'index.js'));
  const isa = cpuInfo()?.cap;
  const rows = peak.fma.filter((r) => r.threads === threads);
  const row = rows.find((r) => r.isa === isa) ?? rows.reduce((a, b) => (b.gflops_best > a.gflops_best ? b : a), rows[0]);
  return row ? row.gflops_best : NaN;
}

function gxxVersion() {
  try {
    return execFileSync('g++', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return 'unknown';
  }
}

module.exports = { measurePeak, gxxVersion, peakGflops };

if (require.main === module) console.log(JSON.stringify(measurePeak(Number(process.argv[2] || 2)), null, 2));
