// Lifetimes under worker_threads, buffers that change under a call, garbage
// collection during async work and memory that comes back. Each case runs in
// its own Node process (test/child/*.js, against dist/), so a crash fails the
// test instead of killing the test runner.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { cpuInfo, saveSafetensors, zeros } from '../lib';

const root = path.resolve(__dirname, '..');
const hasAddon = cpuInfo() !== null;
const hasDist = fs.existsSync(path.join(root, 'dist', 'cjs', 'index.js'));
const cudaAddon = path.join(root, 'build-cuda', 'Release', 'resnext_cuda.node');

function runChild(
  script: string,
  args: string[] = [],
  timeout = 120_000,
  scriptArgs: string[] = [],
): { status: number | null; signal: string | null; out: string } {
  const r = spawnSync(process.execPath, [...args, path.join(__dirname, 'child', script), ...scriptArgs], {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, RESNEXT_TEST_ROOT: root },
  });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

function expectOk(r: ReturnType<typeof runChild>): void {
  // The child's output goes into the failure message: an abort's reason is in its stderr.
  expect({ status: r.status, signal: r.signal }, `child output:\n${r.out.slice(-2000)}`).toEqual({ status: 0, signal: null });
}

describe.skipIf(!hasAddon || !hasDist)('worker_threads', () => {
  it('a worker terminated while two conv2dAsync on x=[4,256,56,56] g=32 are in flight, ten times: the process survives', () => {
    const r = runChild('worker_terminate.js');
    expectOk(r);
    expect(r.out).toMatch(/^ok$/m);
  });

  it('the addon used only by workers that exit (20 in a row, 8 pool threads each): no crash when Node unloads it', () => {
    const r = runChild('worker_unload.js');
    expectOk(r);
    expect(r.out).toMatch(/^ok$/m);
  });

  it('three workers with thread counts 1, 3, 2 and the main thread with 2 compute conv2d, conv2dAsync, one-shot conv2d with 295 KB weights changed between calls and a fused forward at once: each matches the reference and keeps its own count', () => {
    const r = runChild('workers_compute.js');
    expectOk(r);
    const report = JSON.parse(r.out.trim().split('\n').pop()!) as {
      main: { threads: number; err: number };
      mainThreadsAfter: number;
      workers: { threads: number; err: number }[];
    };
    expect(report.mainThreadsAfter).toBe(2);
    expect(report.workers.map((w) => w.threads)).toEqual([1, 3, 2]);
    for (const e of [report.main.err, ...report.workers.map((w) => w.err)]) expect(e).toBeLessThanOrEqual(1e-4);
  });

  it.skipIf(!fs.existsSync(cudaAddon))(
    'the CUDA addon loaded by the main thread and a worker: each environment uses its own constructors',
    () => {
      const r = runChild('cuda_two_envs.js');
      expectOk(r);
      expect(r.out).toMatch(/^ok$/m);
    },
  );
});

describe.skipIf(!hasAddon || !hasDist)('buffers and garbage collection during async calls', () => {
  it('an input transferred away during conv2dAsync, an out transferred away during runAsync, resizable and growable buffers: computed on live memory, rejected with ERR_RESNEXT_DETACHED, or refused with RangeError', () => {
    const r = runChild('buffers_change.js', ['--expose-gc']);
    expectOk(r);
    expect(r.out).not.toMatch(/^FAIL/m);
    expect(r.out.match(/^ok /gm)?.length).toBe(7);
  });

  it('conv runAsync, maxPool2dAsync, globalAvgPoolAsync, linearAsync (public API and addon) with arrays only the call references, gc() while they run: bit-equal to the sync results or resolved, input unchanged', () => {
    const r = runChild('async_gc.js', ['--expose-gc']);
    expectOk(r);
    expect(r.out).not.toMatch(/^FAIL/m);
    expect(r.out.match(/^ok /gm)?.length).toBe(9);
  });
});

// Under AddressSanitizer (npm run test:asan) freed memory is held in quarantine, so RSS cannot show it coming back.
const sanitized = /libasan/.test(process.env.LD_PRELOAD ?? '');
describe.skipIf(!hasAddon || !hasDist || sanitized)('native memory comes back', () => {
  it('300 plans of a 2.25 MiB weight created, run and disposed in a sync loop grow RSS < 64 MiB; a 10,000-call conv2d loop < 48 MiB', () => {
    const r = runChild('memory_growth.js', ['--expose-gc']);
    expectOk(r);
    const m = JSON.parse(r.out.trim().split('\n').pop()!) as { plansMiB: number; conv2dMiB: number };
    expect(m.plansMiB).toBeLessThan(64);
    expect(m.conv2dMiB).toBeLessThan(48);
  });

  it('loadSafetensors of a 64 MiB file holds the tensors once at its peak (not the file and the tensors)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnext-peak-'));
    try {
      const file = path.join(dir, 'w.safetensors');
      saveSafetensors(file, new Map([['w', zeros([16, 1024, 1024])]]));
      const r = runChild('memory_peak.js', [], 120_000, ['load', file]);
      expectOk(r);
      const m = JSON.parse(r.out.trim().split('\n').pop()!) as { growMiB: number; tensorsMiB: number };
      expect(m.tensorsMiB).toBe(64);
      expect(m.growMiB).toBeLessThan(1.4 * m.tensorsMiB);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a prepared resnext50_32x4d holds its weights once in JS memory (the folded copies go once packed natively)', () => {
    const r = runChild('memory_peak.js', ['--expose-gc'], 120_000, ['prepare']);
    expectOk(r);
    const m = JSON.parse(r.out.trim().split('\n').pop()!) as { heldMiB: number; weightsMiB: number };
    expect(m.weightsMiB).toBeGreaterThan(90);
    expect(m.heldMiB).toBeLessThan(1.3 * m.weightsMiB);
  });
});
