// Inference layers (BatchNorm, ReLU, residual add, max pool, global average
// pool, linear, flatten) on every available host backend, each compared with
// the reference backend; then BatchNorm folding (folded conv == conv + BN).

import { describe, expect, it } from 'vitest';

import { add } from '../lib/ops/add';
import { batchNorm } from '../lib/ops/batch_norm';
import { conv2dPlan } from '../lib/ops/conv2d';
import { flatten } from '../lib/ops/flatten';
import { globalAvgPool, globalAvgPoolAsync } from '../lib/ops/global_avg_pool';
import { linear, linearAsync } from '../lib/ops/linear';
import { maxPool2d, maxPool2dAsync } from '../lib/ops/max_pool2d';
import { relu } from '../lib/ops/relu';
import { foldBatchNorm } from '../lib/models/fold_bn';
import { cpuBinding } from '../lib/binding';
import { randn, tensor, zeros, type Tensor } from '../lib/tensor';
import type { BackendName } from '../lib/backends/backend';
import { nativeHostBackends } from './helpers/backends';
import { relErr } from './helpers/compare';

const backends = nativeHostBackends() as BackendName[];

function bnParams(C: number, seed: number) {
  return {
    weight: randn([C], { seed, mean: 1, std: 0.3 }),
    bias: randn([C], { seed: seed + 1, std: 0.5 }),
    runningMean: randn([C], { seed: seed + 2, std: 0.5 }),
    runningVar: tensor(
      Float32Array.from(randn([C], { seed: seed + 3 }).dataSync(), (v) => 0.2 + Math.abs(v)),
      [C],
    ),
  };
}

it('the native addon exports the layer kernels (otherwise the cpu backend falls back to TS loops)', () => {
  if (backends.includes('cpu')) {
    const b = cpuBinding()!;
    for (const k of ['maxPool2d', 'maxPool2dAsync', 'globalAvgPool', 'globalAvgPoolAsync', 'linear', 'linearAsync'])
      expect(typeof (b as unknown as Record<string, unknown>)[k]).toBe('function');
  }
});

describe.each(backends)('inference layers on %s vs reference', (backend) => {
  it.each([[[2, 8, 5, 7]], [[1, 3, 1, 1]], [[4, 16]]])('batchNorm x %j (eps 1e-5, running statistics)', (shape) => {
    const x = randn(shape, { seed: 1 });
    const p = bnParams(shape[1], 10);
    const ref = batchNorm(x, p, { backend: 'reference' });
    const got = batchNorm(x, p, { backend });
    expect(relErr(got.dataSync(), ref.dataSync())).toBeLessThan(1e-6);
    // Spot value against the formula.
    const d = x.dataSync(),
      m = p.runningMean.dataSync()[0],
      v = p.runningVar.dataSync()[0],
      g = p.weight.dataSync()[0],
      b = p.bias.dataSync()[0];
    expect(ref.dataSync()[0]).toBeCloseTo(((d[0] - m) / Math.sqrt(v + 1e-5)) * g + b, 5);
  });

  it('relu x [2, 3, 4, 5] with zeros, negatives and NaN', () => {
    const x = randn([2, 3, 4, 5], { seed: 2 });
    x.dataSync()[0] = NaN;
    x.dataSync()[1] = -0.5;
    x.dataSync()[2] = 0;
    const got = relu(x, { backend });
    expect(Array.from(got.dataSync())).toEqual(Array.from(relu(x, { backend: 'reference' }).dataSync()));
    expect(got.dataSync()[0]).toBeNaN();
    expect(got.dataSync()[1]).toBe(0);
    expect(Math.min(...Array.from(got.dataSync()).filter((v) => !Number.isNaN(v)))).toBe(0);
  });

  it('add a [2, 4, 3, 3] + b [2, 4, 3, 3], plain and with ReLU, in place into a', () => {
    const a = randn([2, 4, 3, 3], { seed: 3 }),
      b = randn([2, 4, 3, 3], { seed: 4 });
    const ref = add(a, b, { backend: 'reference', activation: 'relu' });
    expect(Array.from(add(a, b, { backend, activation: 'relu' }).dataSync())).toEqual(Array.from(ref.dataSync()));
    const plain = add(a, b, { backend });
    expect(plain.dataSync()[5]).toBe(Math.fround(a.dataSync()[5] + b.dataSync()[5]));
    const expected = Array.from(plain.dataSync());
    add(a, b, { backend, out: a });
    expect(Array.from(a.dataSync())).toEqual(expected);
    expect(() => add(a, randn([2, 4, 3, 2]), { backend })).toThrow(RangeError);
  });

  it.each([
    [[2, 3, 112, 112], {}],
    [[1, 64, 8, 9], {}],
    [[1, 2, 5, 5], { kernel: 2, stride: 2, padding: 0 as const }],
    [[1, 1, 3, 3], { kernel: 3, stride: 1, padding: 1 }],
    [[1, 3, 11, 37], { kernel: 3, stride: 2, padding: 1 }],
    [[2, 4, 13, 41], { kernel: 4, stride: 3, padding: 2 }],
    [[1, 5, 9, 33], { kernel: [3, 5] as [number, number], stride: [2, 3] as [number, number], padding: [1, 2] as [number, number] }],
    [[1, 2, 10, 35], { kernel: 5, stride: 1, padding: 2 }],
    [[1, 2, 8, 19], { kernel: 2, stride: 2, padding: 1 }],
  ])('maxPool2d x %j options %j (default 3x3/2 pad 1), sync and async, with and without NaNs', async (shape, opts) => {
    const x = randn(shape, { seed: 5 });
    await expectMaxPoolMatches(x, opts);
    // NaNs at the first, the last and a middle element: at the edges and in the interior of windows.
    const d = x.dataSync();
    for (const i of [0, d.length - 1, Math.floor(d.length / 2) + 3]) d[i] = NaN;
    await expectMaxPoolMatches(x, opts);
  });

  async function expectMaxPoolMatches(x: Tensor, opts: Parameters<typeof maxPool2d>[1]): Promise<void> {
    const ref = maxPool2d(x, { ...opts, backend: 'reference' });
    const got = maxPool2d(x, { ...opts, backend });
    expect(got.shape).toEqual(ref.shape);
    expect(Array.from(got.dataSync())).toEqual(Array.from(ref.dataSync()));
    const out = zeros(ref.shape as number[]);
    await maxPool2dAsync(x, { ...opts, backend, out });
    expect(Array.from(out.dataSync())).toEqual(Array.from(ref.dataSync()));
  }

  it('maxPool2d hand-computed 3x3/2 pad 1 on [1, 1, 4, 4] (padding never wins over negatives)', () => {
    const x = tensor(
      Array.from({ length: 16 }, (_, i) => -16 + i),
      [1, 1, 4, 4],
    );
    const got = maxPool2d(x, { backend });
    expect(got.shape).toEqual([1, 1, 2, 2]);
    // windows: rows/cols {0,1}, {0..2}/{1..3}; max is the bottom-right element of each window.
    expect(Array.from(got.dataSync())).toEqual([-11, -9, -3, -1]);
  });

  it('maxPool2d propagates NaN from any window position, as torch, on [1, 2, 5, 5]', () => {
    const x = randn([1, 2, 5, 5], { seed: 6 });
    x.dataSync()[6] = NaN; // plane 0, row 1, col 1: inside windows (0,0), (0,1), (1,0), (1,1)
    x.dataSync()[25 + 24] = NaN; // plane 1, bottom-right corner: only window (2,2)
    const got = maxPool2d(x, { backend });
    const ref = maxPool2d(x, { backend: 'reference' });
    const isNan = (t: Tensor) => Array.from(t.dataSync(), (v) => Number.isNaN(v));
    expect(isNan(got)).toEqual(isNan(ref));
    expect(isNan(got).filter(Boolean).length).toBe(5);
  });

  it.each([[[2, 64, 7, 7]], [[1, 3, 1, 1]], [[3, 5, 13, 11]]])('globalAvgPool x %j, sync and async', async (shape) => {
    const x = randn(shape, { seed: 6, mean: 1 });
    const ref = globalAvgPool(x, { backend: 'reference' });
    const got = globalAvgPool(x, { backend });
    expect(got.shape).toEqual([shape[0], shape[1], 1, 1]);
    expect(relErr(got.dataSync(), ref.dataSync())).toBeLessThan(1e-6);
    const a = await globalAvgPoolAsync(x, { backend });
    expect(relErr(a.dataSync(), ref.dataSync())).toBeLessThan(1e-6);
    const d = x.dataSync();
    const hw = shape[2] * shape[3];
    expect(ref.dataSync()[0]).toBeCloseTo(Array.from(d.subarray(0, hw)).reduce((s, v) => s + v, 0) / hw, 5);
  });

  it.each([
    [8, 2048, 1000],
    [1, 37, 5],
    [3, 7, 1],
  ])('linear x [%i, %i] weight [%i, in], with and without bias, sync and async', async (N, IN, OUT) => {
    const x = randn([N, IN], { seed: 7 }),
      w = randn([OUT, IN], { seed: 8, std: 0.05 }),
      b = randn([OUT], { seed: 9 });
    for (const bias of [b, null]) {
      const ref = linear(x, w, bias, { backend: 'reference' });
      const got = linear(x, w, bias, { backend });
      expect(got.shape).toEqual([N, OUT]);
      expect(relErr(got.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
      const a = await linearAsync(x, w, bias, { backend });
      expect(relErr(a.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    }
  });
});

describe('layer argument checks', () => {
  it('flatten [2, 3, 4, 5] -> [2, 60] shares memory', () => {
    const x = randn([2, 3, 4, 5], { seed: 1 });
    const f = flatten(x);
    expect(f.shape).toEqual([2, 60]);
    f.dataSync()[7] = 42;
    expect(x.dataSync()[7]).toBe(42);
    expect(flatten(x, 2).shape).toEqual([2, 3, 20]);
    expect(() => flatten(x, 4)).toThrow(RangeError);
  });

  it('errors name the parameter', () => {
    const x = randn([1, 2, 4, 4]);
    expect(() => maxPool2d(randn([2, 4]))).toThrow(/x\.shape/);
    expect(() => maxPool2d(x, { kernel: 2, padding: 2 })).toThrow(/padding/);
    expect(() => maxPool2d(x, { out: zeros([1, 2, 3, 3]) })).toThrow(/out\.shape/);
    expect(() => maxPool2d(x, { out: x.reshape([1, 2, 4, 4]) as Tensor })).toThrow(RangeError);
    expect(() => linear(randn([2, 3]), randn([4, 5]), null)).toThrow(/weight\.shape/);
    expect(() => linear(randn([2, 3]), randn([4, 3]), randn([3]))).toThrow(/bias\.shape/);
    expect(() => batchNorm(x, { ...bnParams(3, 1) })).toThrow(/params\.weight\.shape/);
    expect(() => relu('x' as unknown as Tensor)).toThrow(TypeError);
    expect(() => globalAvgPool(x, { bogus: 1 } as never)).toThrow(/bogus/);
    expect(() => relu(x, { backend: 'nope' as never })).toThrow(RangeError);
  });

  it.runIf(backends.includes('cpu'))('the native exports re-check sizes (no out-of-bounds access from a direct call)', () => {
    const b = cpuBinding()!;
    expect(() => b.maxPool2d!(new Float32Array(10), [1, 1, 4, 4], new Float32Array(4), [3, 3, 2, 2, 1, 1])).toThrow(RangeError);
    expect(() => b.globalAvgPool!(new Float32Array(16), [1, 2, 4, 4], new Float32Array(2))).toThrow(RangeError);
    expect(() => b.linear!(new Float32Array(6), [2, 3], new Float32Array(5), [2, 3], null, new Float32Array(4))).toThrow(RangeError);
    const shared = new Float32Array(32);
    expect(() => b.globalAvgPool!(shared.subarray(0, 16), [1, 1, 4, 4], shared.subarray(15, 16))).toThrow(/share memory/);
  });
});

describe('BatchNorm folding', () => {
  it.each([
    ['[2, 16, 9, 9] 1x1 conv to 24 channels', [2, 16, 9, 9], [24, 16, 1, 1], 1, 1, 0],
    ['[1, 32, 8, 8] grouped 3x3 (32 groups) stride 2', [1, 32, 8, 8], [32, 1, 3, 3], 32, 2, 1],
    ['[1, 3, 20, 20] 7x7/2 stem to 8 channels', [1, 3, 20, 20], [8, 3, 7, 7], 1, 2, 3],
  ] as const)('folded conv == conv then BN for %s', (_label, xs, ws, groups, stride, padding) => {
    const x = randn([...xs] as number[], { seed: 11 }),
      w = randn([...ws] as number[], { seed: 12, std: 0.2 });
    const p = bnParams(ws[0], 20);
    for (const backend of ['reference', ...backends] as const) {
      const y = conv2dPlan(w, { groups, stride, padding, backend: 'reference' }).run(x);
      const unfused = batchNorm(y, p, { backend: 'reference' });
      const f = foldBatchNorm(w, p);
      const folded = conv2dPlan(f.weight, { bias: f.bias, groups, stride, padding, backend: backend as 'reference' }).run(x);
      // float32 rounding of the folded weights: a few ulps relative to the output scale.
      expect(relErr(folded.dataSync(), unfused.dataSync())).toBeLessThan(2e-6);
    }
  });
});
