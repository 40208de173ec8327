// End to end: the `resnext` bin (through dist/, as npx runs it) on a tiny
// suite writes JSON, Markdown and SVG with every raw timing and the machine
// information; bad flags exit 2 with one line; verify passes on the conv
// battery and fails (exit 1, FAIL lines) on a deliberately wrong backend.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import type { Backend } from '../lib/backends/backend';
import { backends, registerBackend } from '../lib/backends/registry';
import { main } from '../lib/cli/main';
import type { Output } from '../lib/cli/output';
import { referenceBackend } from '../lib/backends/reference';

const root = path.resolve(__dirname, '..');
const bin = path.join(root, 'bin', 'resnext.js');
const built = fs.existsSync(path.join(root, 'dist/cjs/cli/main.js'));
const cpuAvailable = backends().some((b) => b.name === 'cpu' && b.available);

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), interactive: false };
}

describe.skipIf(!built)('resnext bin (dist/)', () => {
  /** `resnext bench` on the tiny suite at 32x32 (3 runs after 1 warm-up) with `extra` flags, as a child process. */
  const tinyBench = (extra: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, [bin, 'bench', '--suite', 'tiny', '--size', '32', '--runs', '3', '--warmup', '1', ...extra], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env,
    });

  it('bench --suite tiny --size 32 --runs 3: table on stdout, JSON/Markdown/SVG files with raw timings and machine info', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-cli-'));
    const files = { json: path.join(dir, 'r.json'), md: path.join(dir, 'sub', 'r.md'), svg: path.join(dir, 'r.svg') };
    const r = tinyBench(['--peak', '100', '--json', files.json, '--markdown', files.md, '--svg', files.svg]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Suite tiny, batch 1/);
    expect(r.stdout).toMatch(/4x4d/);
    const j = JSON.parse(fs.readFileSync(files.json, 'utf8'));
    expect(j.settings).toMatchObject({ suite: 'tiny', size: 32, runs: 3, warmup: 1 });
    expect(j.networks).toHaveLength(3 * j.settings.backends.length);
    for (const n of j.networks) {
      expect(n.samples).toHaveLength(3);
      expect(n.warmupSamples).toHaveLength(1);
      for (const s of n.samples) expect(s).toBeGreaterThan(0);
      expect(n.stats.median).toBe([...n.samples].sort((a: number, b: number) => a - b)[1]);
      expect(n.macs).toBeGreaterThan(1e8);
      expect(n.params).toBeGreaterThan(1e6);
      expect(n.gflops).toBeCloseTo((2 * n.macs) / (n.stats.median * 1e6), 6);
      expect(n.pctPeak).toBeCloseTo(n.gflops, 6); // --peak 100: percent equals GFLOP/s
    }
    expect(j.networks[0].relTime).toBe(1);
    expect(j.machine).toMatchObject({ node: process.version, cores: os.cpus().length });
    expect(j.machine.cpuModel).toMatch(/\w/);
    expect(j.machine.packageVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(j.peak).toMatchObject({ gflops: 100, source: 'given with --peak' });
    const md = fs.readFileSync(files.md, 'utf8');
    expect(md).toMatch(/^# resnext bench: tiny/);
    expect(md).toMatch(/\| resnext29_8x2d \| 8x2d \|/);
    const svg = fs.readFileSync(files.svg, 'utf8');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const label of ['1x16d', '4x4d', '8x2d']) expect(svg).toContain(`>${label}<`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  it.skipIf(!cpuAvailable)(
    'bench with a cached peak that the rows beat (measured on a busy machine) measures the peak again and keeps the best',
    () => {
      // Own temp folder for the peak cache (os.tmpdir()/resnext-peak), one thread (a 4 s measurement).
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-peakcache-'));
      const env = { ...process.env, TMPDIR: tmp };
      const bench = (extra: string[]) => tinyBench(['--threads', '1', ...extra, '--json', path.join(tmp, 'r.json')], env);
      const first = bench(['--peak', 'measure']);
      expect(first.status, first.stderr).toBe(0);
      const cacheDir = path.join(tmp, 'resnext-peak');
      const cacheFile = fs.readdirSync(cacheDir).find((f) => f.endsWith('.json'));
      expect(cacheFile).toBeDefined();
      const cache = JSON.parse(fs.readFileSync(path.join(cacheDir, cacheFile!), 'utf8'));
      const real = JSON.parse(fs.readFileSync(path.join(tmp, 'r.json'), 'utf8')).peak.gflops as number;
      expect(real).toBeGreaterThan(1);
      // As if the cached measurement had run while the machine was busy: 1 GFLOP/s.
      for (const e of cache.entries) e.gflops_best = e.gflops_median = 0.001;
      fs.writeFileSync(path.join(cacheDir, cacheFile!), JSON.stringify(cache));
      const second = bench([]);
      expect(second.status, second.stderr).toBe(0);
      const j = JSON.parse(fs.readFileSync(path.join(tmp, 'r.json'), 'utf8'));
      expect(j.peak.source).toMatch(/best of 2 measurements/);
      expect(j.peak.gflops).toBeGreaterThan(1);
      for (const n of j.networks) if (n.pctPeak !== null) expect(n.pctPeak).toBeLessThan(100);
      expect(j.notes.join('\n')).not.toMatch(/above 100% of the peak/);
      expect(JSON.parse(fs.readFileSync(path.join(cacheDir, cacheFile!), 'utf8')).runs).toBe(2);
    },
    180_000,
  );

  it('a bad flag exits 2 with a one-line message and no stack trace', () => {
    const r = spawnSync(process.execPath, [bin, 'bench', '--batch', 'eight'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['resnext: Expected an integer for --batch but received "eight".']);
    expect(r.stdout).toBe('');
  });
});

describe('resnext verify', () => {
  it.skipIf(!cpuAvailable)('verify --conv-only passes on the cpu backend with a PASS line per battery case', async () => {
    const o = capture();
    expect(await main(['verify', '--backend', 'cpu', '--conv-only'], o)).toBe(0);
    const lines = o.out.filter((l) => l.startsWith('PASS'));
    expect(lines.length).toBeGreaterThanOrEqual(15);
    expect(o.out.join('\n')).toMatch(/depthwise[\s\S]*7x7 stride 2[\s\S]*OK: \d+\/\d+ cases passed on cpu/);
  });
  it('a backend off by one part in 1e3 fails verify: exit 1 with FAIL lines naming the case and the error', async () => {
    // A wrong backend under the name 'cuda' (the placeholder here): the
    // reference with every output scaled by 1.001.
    const wrong: Backend = {
      ...referenceBackend,
      name: 'cuda',
      prepareConv2d(weight, bias, spec) {
        const p = referenceBackend.prepareConv2d(weight, bias, spec);
        const run = (x: Parameters<typeof p.run>[0], out: Parameters<typeof p.run>[1], residual: Parameters<typeof p.run>[2]): void => {
          p.run(x, out, residual);
          const d = out.dataSync();
          for (let i = 0; i < d.length; i++) d[i] *= 1.001;
        };
        return { ...p, run, runAsync: async (x, out, residual) => run(x, out, residual) };
      },
    };
    registerBackend(wrong);
    const o = capture();
    expect(await main(['verify', '--backend', 'cuda', '--conv-only'], o)).toBe(1);
    const fails = o.out.filter((l) => l.startsWith('FAIL'));
    expect(fails.length).toBe(o.out.filter((l) => /^(PASS|FAIL)/.test(l)).length);
    expect(fails[0]).toMatch(/FAIL\s+cuda\s+conv\s+odd channels: x 2x17x11x13.*relative 1\.0\de-3/);
    expect(o.out.at(-1)).toMatch(/^FAILED: 0\/\d+ cases passed on cuda/);
  });
});
