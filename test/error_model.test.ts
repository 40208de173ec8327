// One error model on every path, sync or async, TS or native: bad arguments
// are TypeError/RangeError naming the parameter; runtime failures are one
// ResnextError class with a stable code (docs/errors.md). Native errors keep
// their class through rethrowNative, including on the async paths.
import { describe, expect, it } from 'vitest';

import {
  backends,
  conv2d,
  conv2dAsync,
  conv2dPlan,
  globalAvgPoolAsync,
  HostStorage,
  linearAsync,
  maxPool2dAsync,
  randn,
  ResnextError,
  resnext,
  Tensor,
  tensor,
} from '../lib';
import { cpuBinding } from '../lib/binding';
import { ERROR_CODES, rethrowNative } from '../lib/errors';

const hasAddon = cpuBinding() !== null;

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

// ES2024 constructors (resizable ArrayBuffer, growable SharedArrayBuffer) that this TS lib does not type yet.
const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;

/** Points a host tensor at a Float32Array over a resizable buffer behind the TS checks, so only the native boundary can refuse it. */
function resizableStorage(t: Tensor): void {
  const n = t.size;
  const arr = new Float32Array(new Resizable(n * 4, { maxByteLength: n * 8 }));
  (t.storage as unknown as { data: Float32Array }).data = arr;
}

describe('rethrowNative keeps the class and maps codes', () => {
  it.each([
    [new RangeError('groups: bad'), RangeError],
    [new TypeError('input: expected a Float32Array'), TypeError],
  ])('%s -> the same class, with the context prefixed', (err, Ctor) => {
    const e = (() => {
      try {
        rethrowNative(err, 'conv2d (cpu)');
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(Ctor);
    expect(e).not.toBeInstanceOf(ResnextError);
    expect((e as Error).message).toBe(`conv2d (cpu): ${err.message}`);
  });
  it('a native Error with code ERR_RESNEXT_OUT_OF_MEMORY -> ResnextError with that code; an unknown or missing code -> ERR_RESNEXT_INTERNAL', () => {
    const oom = Object.assign(new Error('no memory'), { code: 'ERR_RESNEXT_OUT_OF_MEMORY' });
    for (const [err, code] of [
      [oom, 'ERR_RESNEXT_OUT_OF_MEMORY'],
      [new Error('boom'), 'ERR_RESNEXT_INTERNAL'],
      [Object.assign(new Error('x'), { code: 'EWHATEVER' }), 'ERR_RESNEXT_INTERNAL'],
      ['a string', 'ERR_RESNEXT_INTERNAL'],
    ] as const) {
      const e = (() => {
        try {
          rethrowNative(err, 'ctx');
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(ResnextError);
      expect((e as ResnextError).code).toBe(code);
    }
  });
});

describe.skipIf(!hasAddon)('native errors reach the public API in the right class, sync and async', () => {
  const w = randn([8, 2, 3, 3], { seed: 2 });
  it('impl forced on a conv it cannot run (winograd_scalar on a 1x1): RangeError from native, through conv2dPlan', () => {
    expect(() => conv2dPlan(randn([8, 8, 1, 1]), { impl: 'winograd_scalar', backend: 'cpu' })).toThrow(RangeError);
    expect(() => conv2dPlan(randn([8, 8, 1, 1]), { impl: 'winograd_scalar', backend: 'cpu' })).toThrow(
      /conv2d \(cpu\): impl: 'winograd_scalar' cannot run/,
    );
  });
  it('a resizable buffer slipped behind the TS checks: RangeError from the native boundary on plan.run, plan.runAsync and each layer *Async', async () => {
    const plan = conv2dPlan(w, { groups: 4, padding: 1, backend: 'cpu' });
    const x = randn([1, 8, 5, 5], { seed: 1 });
    resizableStorage(x);
    expect(() => plan.run(x)).toThrow(RangeError);
    const e = await caught(() => plan.runAsync(x));
    expect(e).toBeInstanceOf(RangeError);
    expect((e as Error).message).toMatch(/^conv2d \(cpu\): input: expected a Float32Array over a fixed-length buffer/);
    const y = randn([1, 8, 6, 6], { seed: 3 });
    resizableStorage(y);
    const z = randn([6, 48], { seed: 4 });
    resizableStorage(z);
    for (const [name, run] of [
      ['maxPool2d', () => maxPool2dAsync(y, { backend: 'cpu' })],
      ['globalAvgPool', () => globalAvgPoolAsync(y, { backend: 'cpu' })],
      ['linear', () => linearAsync(z, randn([4, 48]), null, { backend: 'cpu' })],
    ] as const) {
      const err = await caught(run);
      expect(err, name).toBeInstanceOf(RangeError);
      expect((err as Error).message).toMatch(new RegExp(`^${name} \\(cpu\\): input: expected a Float32Array over a fixed-length`));
    }
    plan.dispose();
  });
  it('use after dispose: ResnextError ERR_RESNEXT_DISPOSED from the plan (TS) and from the native ConvPlan', async () => {
    const plan = conv2dPlan(w, { groups: 4, backend: 'cpu' });
    plan.dispose();
    const x = randn([1, 8, 5, 5]);
    for (const e of [await caught(() => plan.run(x)), await caught(() => plan.runAsync(x)), await caught(() => plan.info())]) {
      expect(e).toBeInstanceOf(ResnextError);
      expect((e as ResnextError).code).toBe(ERROR_CODES.DISPOSED);
    }
    const b = cpuBinding()!;
    const native = new b.ConvPlan(new Float32Array(9), [1, 1, 3, 3], null, {
      groups: 1,
      stride: [1, 1],
      dilation: [1, 1],
      padding: [1, 1, 1, 1],
      activation: 'none',
    });
    native.dispose();
    native.dispose();
    const e = await caught(() => native.run(new Float32Array(9), [1, 1, 3, 3], new Float32Array(9), null));
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(RangeError);
    expect((e as { code?: string }).code).toBe('ERR_RESNEXT_DISPOSED');
  });
  it('dispose while runAsync is in flight: the run completes correctly (the worker holds the packed weights)', async () => {
    const x = randn([2, 64, 28, 28], { seed: 4 });
    const w2 = randn([64, 4, 3, 3], { seed: 5 });
    const want = conv2d(x, w2, { groups: 16, padding: 1, backend: 'cpu' }).dataSync();
    const plan = conv2dPlan(w2, { groups: 16, padding: 1, backend: 'cpu' });
    const pending = plan.runAsync(x);
    plan.dispose();
    expect((await pending).dataSync()).toEqual(want);
  });
  it('conv2dAsync with an input of the wrong channel count rejects (not throws) with a RangeError', async () => {
    const p = conv2dAsync(randn([1, 6, 5, 5]), w, { groups: 4 });
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toBeInstanceOf(RangeError);
  });
});

describe('runtime failures are ResnextError with a code', () => {
  const unavailable = backends().filter((b) => !b.available);
  it.skipIf(unavailable.length === 0)('a named backend that is unavailable: ERR_RESNEXT_BACKEND_UNAVAILABLE with the reason', () => {
    const b = unavailable[0];
    const e = (() => {
      try {
        conv2dPlan(randn([4, 4, 1, 1]), { backend: b.name });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(ResnextError);
    expect((e as ResnextError).code).toBe(ERROR_CODES.BACKEND_UNAVAILABLE);
    expect((e as Error).message).toContain(b.reason!);
  });
  it('tensor() over a resizable ArrayBuffer or growable SharedArrayBuffer: RangeError naming data', () => {
    expect(() => tensor(new Float32Array(new Resizable(16, { maxByteLength: 32 })), [4])).toThrow(/fixed-length buffer for data/);
    expect(() => tensor(new Float32Array(new Growable(16, { maxByteLength: 32 })), [4])).toThrow(RangeError);
    expect(tensor(new Float32Array(new SharedArrayBuffer(16)), [4]).size).toBe(4);
  });
});

describe('tensors whose storage does not match their shape', () => {
  it('new Tensor(new HostStorage(3 floats), [2, 2]) -> RangeError naming storage', () => {
    expect(() => new Tensor(new HostStorage(new Float32Array(3)), [2, 2])).toThrow(RangeError);
    expect(() => new Tensor(new HostStorage(new Float32Array(3)), [2, 2])).toThrow(/for storage/);
  });
  it('loadStateDict with one tensor whose storage was swapped for a shorter one -> RangeError naming the key, model unchanged', async () => {
    const m = resnext({ depth: 50, cardinality: 2, width: 1, numClasses: 3, seed: 9 });
    const sd = m.stateDict({ copy: true });
    const fc = sd.get('fc.weight')!;
    (fc.storage as unknown as { data: Float32Array }).data = new Float32Array(fc.size - 1);
    expect(() => m.loadStateDict(sd)).toThrow(RangeError);
    expect(() => m.loadStateDict(sd)).toThrow(/storage of \d+ elements .* for stateDict.get\("fc\.weight"\)/);
  });
});
