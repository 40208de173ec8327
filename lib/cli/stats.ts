// Summary statistics of timing samples (milliseconds), chosen for a noisy
// shared machine: medians and percentiles rather than means, and a relative
// spread that flags rows too noisy to trust. Percentiles interpolate linearly
// between order statistics (the "type 7" rule of R and NumPy's default).

export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p10: number;
  p90: number;
  /** (p90 - p10) / median: 0 for identical samples. */
  spread: number;
  /** spread > the threshold given to summarize(). */
  noisy: boolean;
}

/** The q-quantile (0 <= q <= 1) of already sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('Expected at least one sample for quantile but received none');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Expected a quantile in [0, 1] for q but received ${q}`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Summarizes samples; rows whose relative spread exceeds maxSpread are marked noisy. */
export function summarize(values: readonly number[], maxSpread = 0.2): Summary {
  if (values.length === 0) throw new RangeError('Expected at least one sample to summarize but received none');
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`Expected finite samples to summarize but received ${v}`);
  }
  const s = [...values].sort((a, b) => a - b);
  const med = quantileSorted(s, 0.5);
  const p10 = quantileSorted(s, 0.1);
  const p90 = quantileSorted(s, 0.9);
  const spread = med > 0 ? (p90 - p10) / med : 0;
  return {
    n: s.length,
    min: s[0],
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    median: med,
    p10,
    p90,
    spread,
    noisy: spread > maxSpread,
  };
}

/**
 * Round-robin order for round r of n configurations: each round starts one
 * configuration later, so slow drift of the machine (another process, thermal)
 * spreads over all configurations instead of biasing the ones timed last.
 */
export function roundOrder(n: number, round: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((i + round) % n);
  return out;
}
