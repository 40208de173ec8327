// The machine's measured fp32 peak for "% of peak": the FMA microbenchmark in
// bench/peak/peak.cc (the CPU-speed work's), compiled with the system C++
// compiler on first use and cached per CPU model and source in the OS temp
// folder, so a later run does not pay the ~8 s again. On a shared machine a
// measurement can only come out low (another process took the FMA units), so
// the cache keeps the best figure of every measurement and a new one is taken
// once a day (or on --peak measure). Falls back to a peak the user gives
// (--peak GFLOPS) or to "unknown"; never to a datasheet figure.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { packageRoot } from '../binding';

export interface PeakEntry {
  isa: string;
  threads: number;
  gflops_best: number;
  gflops_median: number;
}

export interface Peak {
  /** GFLOP/s used for "% of peak" (the best of the repetitions), or null. */
  gflops: number | null;
  isa: string | null;
  threads: number;
  /** How the figure was obtained, for the report. */
  source: string;
  entries: PeakEntry[];
  /** The figure came from an earlier run's cached measurement (none was taken now). */
  cached?: boolean;
}

const REMEASURE_AFTER_MS = 24 * 3600 * 1000;

export function peakSourcePath(): string | null {
  const p = path.join(packageRoot(), 'bench', 'peak', 'peak.cc');
  return fs.existsSync(p) ? p : null;
}

/** Picks the entry for an ISA and thread count from the microbenchmark's output. */
export function selectPeak(entries: readonly PeakEntry[], isa: string, threads: number): PeakEntry | null {
  const same = entries.filter((e) => e.isa === isa);
  if (same.length === 0) return null;
  const exact = same.find((e) => e.threads === threads);
  if (exact) return exact;
  // More threads than the benchmark ran: the largest count measured, scaled linearly (an upper bound).
  const largest = same.reduce((a, b) => (b.threads > a.threads ? b : a));
  const f = threads / largest.threads;
  return { ...largest, threads, gflops_best: largest.gflops_best * f, gflops_median: largest.gflops_median * f };
}

/**
 * The peak for an ISA and thread count. FMA units do not share anything
 * between cores, so N threads reach about N times one thread (measured here:
 * 431 vs 2 x 223 GFLOP/s); an N-thread figure well below that means another
 * process held a core while it ran, and the scaled one-thread figure is used instead
 * (a larger denominator: "% of peak" errs low, never high).
 */
export function peakFor(entries: readonly PeakEntry[], isa: string, threads: number): { gflops: number; how: string } | null {
  const e = selectPeak(entries, isa, threads);
  if (!e) return null;
  const plural = threads === 1 ? '' : 's';
  const one = entries.find((x) => x.isa === isa && x.threads === 1);
  // 10% slack: on an idle machine N threads measure a few percent under N x one.
  if (threads > 1 && one && 0.9 * one.gflops_best * threads > e.gflops_best) {
    return {
      gflops: one.gflops_best * threads,
      how: `${threads} x the 1-thread ${one.gflops_best.toFixed(0)} GFLOP/s (the ${threads}-thread measurement, ${e.gflops_best.toFixed(0)}, was lower: a core was busy)`,
    };
  }
  return { gflops: e.gflops_best, how: `${threads} thread${plural}` };
}

/** Entry-wise best of two measurements of the same benchmark. */
export function mergePeaks(a: readonly PeakEntry[], b: readonly PeakEntry[]): PeakEntry[] {
  const out = a.map((e) => ({ ...e }));
  for (const e of b) {
    const same = out.find((o) => o.isa === e.isa && o.threads === e.threads);
    if (!same) out.push({ ...e });
    else {
      same.gflops_best = Math.max(same.gflops_best, e.gflops_best);
      same.gflops_median = Math.max(same.gflops_median, e.gflops_median);
    }
  }
  return out;
}

/**
 * Measures (or reuses a cached measurement of) the FMA peak for the ISA the
 * CPU backend runs and its thread count. `log` receives one line of progress.
 */
export function measurePeak(isa: string | null, threads: number, log: (line: string) => void = () => {}, force = false): Peak {
  const none = (source: string): Peak => ({ gflops: null, isa, threads, source, entries: [] });
  if (isa === null || isa === 'scalar')
    return none(`not measured: the CPU backend runs ${isa ?? 'no'} SIMD code, the microbenchmark times FMA units`);
  const src = peakSourcePath();
  if (!src) return none('not measured: bench/peak/peak.cc is not in this installation (it ships with the git clone); pass --peak GFLOPS');
  const source = fs.readFileSync(src);
  const key = createHash('sha256')
    .update(source)
    .update(os.cpus()[0]?.model ?? '')
    .update(String(threads))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(os.tmpdir(), 'resnext-peak');
  const cacheFile = path.join(dir, `${key}.json`);
  let cached: { when: string; first: string; runs: number; entries: PeakEntry[] } | null = null;
  try {
    cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    if (cached) {
      cached.runs = cached.runs ?? 1;
      cached.first = cached.first ?? cached.when;
    }
    if (!force && cached && Date.now() - Date.parse(cached.when) < REMEASURE_AFTER_MS) {
      return {
        ...pick(
          cached.entries,
          `bench/peak/peak.cc, best of ${cached.runs} measurement${cached.runs === 1 ? '' : 's'} since ${cached.first} (cached in ${cacheFile}; --peak measure to measure again)`,
        ),
        cached: true,
      };
    }
  } catch {
    cached = null;
  }
  const exe = path.join(dir, `peak-${key}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.existsSync(exe)) {
      log('compiling bench/peak/peak.cc ...');
      const cxx = process.env.CXX || 'c++';
      execFileSync(cxx, ['-O3', '-std=c++17', '-pthread', '-o', exe, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    log(`measuring the fp32 FMA peak on 1..${threads} threads (about ${4 * threads} s) ...`);
    const out = execFileSync(exe, [String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    const fresh = (JSON.parse(out) as { fma: PeakEntry[] }).fma;
    const when = new Date().toISOString();
    const entries = cached ? mergePeaks(cached.entries, fresh) : fresh;
    const runs = (cached?.runs ?? 0) + 1;
    const first = cached?.first ?? when;
    fs.writeFileSync(cacheFile, JSON.stringify({ when, first, runs, entries }));
    return pick(
      entries,
      runs === 1
        ? `bench/peak/peak.cc measured now (${when})`
        : `bench/peak/peak.cc, best of ${runs} measurements since ${first}, the latest now`,
    );
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return none(`not measured: building or running bench/peak/peak.cc failed (${msg}); pass --peak GFLOPS`);
  }

  function pick(entries: PeakEntry[], how: string): Peak {
    const p = peakFor(entries, isa as string, threads);
    if (!p) return { gflops: null, isa, threads, source: `${how}, but it has no ${isa} entry`, entries };
    return { gflops: p.gflops, isa, threads, source: `${how}: ${isa} FMA, ${p.how}`, entries };
  }
}
