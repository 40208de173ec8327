// The CPU network's activation arena starts at a 64-byte boundary (a typed
// array's data is only 16-byte aligned), so a 16-lane vector of a blocked
// activation is one cache line; and alignOffset, which finds the boundary.
import { describe, expect, it } from 'vitest';

import { cpuBinding } from '../lib/binding';
import { resnext50_32x4d } from '../lib/models/presets';
import { randn } from '../lib/tensor';
import { nativeHostBackends } from './helpers/backends';
import { type SpiedStep, withProgramSpy } from './helpers/program_spy';

const hasCpu = nativeHostBackends().includes('cpu');
const b = cpuBinding();

describe.runIf(hasCpu)('alignOffset', () => {
  it('counts elements to the first multiple of bytes; a view k elements further is k closer (mod bytes / 4)', () => {
    const a = new Float32Array(4096);
    for (const bytes of [4, 16, 64, 4096]) {
      const n = bytes / 4;
      const skip = b!.alignOffset!(a, bytes);
      expect(skip).toBeGreaterThanOrEqual(0);
      expect(skip).toBeLessThan(n);
      for (const k of [1, 3, n - 1, n + 5]) expect(b!.alignOffset!(a.subarray(k), bytes)).toBe((((skip - k) % n) + n) % n);
      expect(b!.alignOffset!(a.subarray(skip), bytes)).toBe(0);
    }
  });

  it('checks its arguments: a non-Float32Array is a TypeError, bytes not a power of two in [4, 4096] a RangeError', () => {
    expect(() => b!.alignOffset!(new Float64Array(4) as never, 64)).toThrow(TypeError);
    expect(() => b!.alignOffset!(new Float32Array(4), 48)).toThrow(/bytes: expected a power of two but received 48/);
    expect(() => b!.alignOffset!(new Float32Array(4), 48)).toThrow(RangeError);
    expect(() => b!.alignOffset!(new Float32Array(4), 8192)).toThrow(RangeError);
    expect(() => b!.alignOffset!(new Float32Array(4), 2)).toThrow(RangeError);
  });
});

describe.runIf(hasCpu)('network arena', () => {
  it.each([1, 2])(
    'resnext50_32x4d x=[%i, 3, 32, 32]: every step buffer of the program starts at a 64-byte boundary',
    async (n) => {
      const offsets: number[] = [];
      const onProgram = (steps: SpiedStep[]): void => {
        for (const s of steps) for (const v of [s.input, s.output, s.residual]) if (v) offsets.push(b!.alignOffset!(v, 64));
      };
      await withProgramSpy(b!, onProgram, async () => {
        const m = resnext50_32x4d({ seed: 1 });
        await m.forward(randn([n, 3, 32, 32], { seed: 2 }), { backend: 'cpu', tune: false });
        m.dispose();
      });
      expect(offsets.length).toBeGreaterThan(50);
      // The network input (the caller's tensor) is not the arena's: every other buffer is.
      expect(offsets.filter((o) => o !== 0).length).toBeLessThanOrEqual(1);
    },
    60_000,
  );
});
