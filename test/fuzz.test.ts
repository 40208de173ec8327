// Property-based fuzzing (scripts/fuzz.js, fast-check) of the public API and
// every export of the CPU addon, sync and async, on the main thread and in a
// worker thread at once: 3,000 calls in a child process (so a crash fails the
// test), each either succeeding (convolutions matching the reference) or
// failing with TypeError / RangeError / ResnextError.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { cpuInfo } from '../lib';

const root = path.resolve(__dirname, '..');
const ready = cpuInfo() !== null && fs.existsSync(path.join(root, 'dist', 'cjs', 'index.js'));

describe.skipIf(!ready)('fuzz: public API and addon exports', () => {
  it('3,000 random calls (main thread + 1 worker, sync and async): no crash, every failure a TypeError, RangeError or coded error', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'scripts', 'fuzz.js'), '--calls', '3000', '--workers', '1', '--seed', '7', '--json'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect({ status: r.status, signal: r.signal, err: r.stderr.slice(-2000) }).toMatchObject({ status: 0, signal: null });
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      calls: number;
      outcomes: Record<string, number>;
      failure: string | null;
    };
    expect(report.failure).toBeNull();
    expect(report.calls).toBe(3000);
    // Both kinds of outcome occur: calls that succeed and calls refused with an argument error.
    expect(report.outcomes.ok).toBeGreaterThan(300);
    expect((report.outcomes.TypeError ?? 0) + (report.outcomes.RangeError ?? 0)).toBeGreaterThan(300);
  });
});
