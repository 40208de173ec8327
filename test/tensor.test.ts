// Tensor construction, determinism of randn, data access, reshape and dispose.
import { describe, expect, it } from 'vitest';

import { full, randn, Tensor, tensor, zeros } from '../lib';

describe('tensor API', () => {
  it('tensor(Float32Array, shape) wraps without copying and reports shape, size, dtype, device', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(data, [2, 3]);
    expect(t).toBeInstanceOf(Tensor);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
    expect(t.dataSync()).toBe(data);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  it('tensor(number[], shape) copies into a new Float32Array', () => {
    const arr = [1, 2, 3, 4];
    const t = tensor(arr, [4]);
    arr[0] = 100;
    expect(t.dataSync()[0]).toBe(1);
  });

  it('zeros and full fill; data() resolves to the same values as dataSync()', async () => {
    expect(Array.from(zeros([2, 2]).dataSync())).toEqual([0, 0, 0, 0]);
    const f = full([3], 2.5);
    expect(Array.from(await f.data())).toEqual([2.5, 2.5, 2.5]);
  });

  it('randn is deterministic for a seed and differs across seeds; roughly standard normal', () => {
    const a = randn([1000], { seed: 7 }).dataSync();
    const b = randn([1000], { seed: 7 }).dataSync();
    const c = randn([1000], { seed: 8 }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const big = randn([100000], { seed: 1 }).dataSync();
    let mean = 0;
    for (const v of big) mean += v;
    mean /= big.length;
    let variance = 0;
    for (const v of big) variance += (v - mean) ** 2;
    variance /= big.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('reshape shares memory and checks the element count', () => {
    const t = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const r = t.reshape([3, 2]);
    expect(r.shape).toEqual([3, 2]);
    r.dataSync()[0] = 9;
    expect(t.dataSync()[0]).toBe(9);
    expect(() => t.reshape([4, 2])).toThrow(RangeError);
  });

  it('arraySync nests by shape', () => {
    expect(tensor([1, 2, 3, 4, 5, 6], [2, 3]).arraySync()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('dispose is idempotent and any later use throws a TypeError', () => {
    const t = zeros([2]);
    t.dispose();
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => t.dataSync()).toThrow(TypeError);
    expect(() => t.dataSync()).toThrow(/disposed/);
    expect(t.toString()).toMatch(/disposed/);
  });
});
