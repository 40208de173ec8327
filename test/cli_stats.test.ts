// Bench statistics on arrays with known answers: percentiles by linear
// interpolation (type 7), spread = (p90 - p10) / median and its noisy flag,
// the interleaving order, the automatic run count and the peak selection.
import { describe, expect, it } from 'vitest';

import { chooseRuns, compareRoundOrder } from '../lib/cli/bench';
import { mergePeaks, peakFor, selectPeak } from '../lib/cli/peak';
import { median, quantile, roundOrder, summarize } from '../lib/cli/stats';

describe('percentiles and summary', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('p10 and p90 of 1..11 are 2 and 10; of 0..9 interpolate to 0.9 and 8.1', () => {
    const a = [11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6];
    expect(quantile(a, 0.1)).toBeCloseTo(2, 12);
    expect(quantile(a, 0.9)).toBeCloseTo(10, 12);
    const b = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(quantile(b, 0.1)).toBeCloseTo(0.9, 12);
    expect(quantile(b, 0.9)).toBeCloseTo(8.1, 12);
  });
  it('summary of 1..11: min, max, mean, spread 8/6', () => {
    const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 2);
    expect(s).toMatchObject({ n: 11, min: 1, max: 11, mean: 6, median: 6, noisy: false });
    expect(s.spread).toBeCloseTo(8 / 6, 12);
  });
  it('identical samples: spread 0, not noisy; one sample is its own percentiles', () => {
    expect(summarize([7, 7, 7, 7])).toMatchObject({ spread: 0, noisy: false, p10: 7, p90: 7 });
    expect(summarize([3])).toMatchObject({ n: 1, median: 3, p10: 3, p90: 3, spread: 0 });
  });
  it('flags spread above the threshold only: 10 +- 1 is exactly 20% spread (not above 0.2), an outlier tail is noisy', () => {
    const quiet = summarize([9, 9, 10, 10, 10, 10, 10, 11, 11, 10], 0.2);
    expect(quiet.spread).toBeCloseTo(0.2, 12);
    expect(quiet.noisy).toBe(false);
    const noisy = summarize([10, 10, 10, 10, 10, 10, 10, 10, 20, 30], 0.2);
    expect(noisy.median).toBe(10);
    expect(noisy.p90).toBeCloseTo(21, 12);
    expect(noisy.noisy).toBe(true);
  });
  it('rejects empty and non-finite samples', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, NaN])).toThrow(/finite/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/quantile/);
  });
});

describe('interleaving and run count', () => {
  it('each round starts one later; over n rounds every config takes every position once', () => {
    expect(roundOrder(3, 0)).toEqual([0, 1, 2]);
    expect(roundOrder(3, 1)).toEqual([1, 2, 0]);
    expect(roundOrder(3, 5)).toEqual([2, 0, 1]);
    const n = 4;
    for (let pos = 0; pos < n; pos++) {
      const seen = new Set(Array.from({ length: n }, (_, r) => roundOrder(n, r)[pos]));
      expect(seen.size).toBe(n);
    }
  });
  it('with two runtimes: one block per runtime, blocks alternate, each block rotates; one runtime is roundOrder', () => {
    const rt = ['ours', 'ort', 'ours', 'ort', 'ours', 'ort'];
    expect(compareRoundOrder(rt, 0)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(compareRoundOrder(rt, 1)).toEqual([3, 5, 1, 2, 4, 0]);
    expect(compareRoundOrder(rt, 2)).toEqual([4, 0, 2, 5, 1, 3]);
    expect(compareRoundOrder(['a', 'a', 'a'], 1)).toEqual(roundOrder(3, 1));
  });
  it('runs fit the budget within [5, 50]', () => {
    expect(chooseRuns([100, 100, 100, 100, 100], 30).runs).toBe(50);
    expect(chooseRuns([1000, 1000], 30).runs).toBe(15);
    expect(chooseRuns([20000], 30).runs).toBe(5);
    expect(chooseRuns([], 30).runs).toBe(5);
  });
});

describe('peak selection', () => {
  const entries = [
    { isa: 'avx512', threads: 1, gflops_best: 225, gflops_median: 223 },
    { isa: 'avx512', threads: 2, gflops_best: 435, gflops_median: 431 },
    { isa: 'avx2', threads: 1, gflops_best: 112, gflops_median: 111 },
  ];
  it('picks the ISA and thread count, scales the largest count for more threads, null for an unmeasured ISA', () => {
    expect(selectPeak(entries, 'avx512', 2)?.gflops_best).toBe(435);
    expect(selectPeak(entries, 'avx2', 1)?.gflops_best).toBe(112);
    expect(selectPeak(entries, 'avx512', 4)?.gflops_best).toBe(870);
    expect(selectPeak(entries, 'neon', 1)).toBeNull();
  });
  it('a 2-thread figure below twice the 1-thread one (a busy core) is replaced by the scaled 1-thread figure', () => {
    expect(peakFor(entries, 'avx512', 2)).toEqual({ gflops: 435, how: '2 threads' }); // 97% of 2 x 225: an idle machine
    const busy = [entries[0], { isa: 'avx512', threads: 2, gflops_best: 234, gflops_median: 232 }];
    expect(peakFor(busy, 'avx512', 2)).toEqual({ gflops: 450, how: expect.stringMatching(/2 x the 1-thread 225 .*234, was lower/) });
    const idle = [
      { isa: 'avx2', threads: 1, gflops_best: 100, gflops_median: 99 },
      { isa: 'avx2', threads: 2, gflops_best: 201, gflops_median: 199 },
    ];
    expect(peakFor(idle, 'avx2', 2)).toEqual({ gflops: 201, how: '2 threads' });
    expect(peakFor(idle, 'avx2', 1)).toEqual({ gflops: 100, how: '1 thread' });
    expect(peakFor(idle, 'avx512', 1)).toBeNull();
  });
  it('merging keeps the best of each measurement (a busy machine only measures low)', () => {
    const busy = [
      { isa: 'avx512', threads: 2, gflops_best: 230, gflops_median: 200 },
      { isa: 'avx2', threads: 2, gflops_best: 210, gflops_median: 205 },
    ];
    const m = mergePeaks(entries, busy);
    expect(selectPeak(m, 'avx512', 2)?.gflops_best).toBe(435);
    expect(selectPeak(m, 'avx2', 2)?.gflops_best).toBe(210);
    expect(m).toHaveLength(4);
  });
});
