// Comparison helpers shared by the suites.
//
// Tolerance definition used throughout: the normwise relative error
//   relErr(a, ref) = max_i |a_i - ref_i| / max_i |ref_i|
// (with the denominator floored at 1e-30), against a float64-accumulated
// reference. Per-element relative error is meaningless for outputs near zero
// (cancellation), so we scale by the output's largest magnitude, the usual
// practice for convolution/GEMM tests (XNNPACK, oneDNN benchdnn use similar norms).

export const REL_TOL = 1e-4;

export function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) throw new Error(`length mismatch: ${a.length} vs ${ref.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    // NaN must fail: d > maxDiff is false for NaN, so check explicitly.
    if (Number.isNaN(d)) return Infinity;
    if (d > maxDiff) maxDiff = d;
    const m = Math.abs(ref[i]);
    if (m > maxRef) maxRef = m;
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > m) m = d;
  }
  return m;
}
