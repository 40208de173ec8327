// Reference grouped 2-D convolution in plain TypeScript: the oracle every
// other backend is tested against. Accumulates in float64 (bias, all products,
// residual), applies the activation, then rounds once to float32.
//
// Layouts: x [N][C][H][W], w [K][C/G][R][S], bias [K], residual/out [N][K][P][Q].
// Output channel k belongs to group floor(k / (K/G)) and reads input channels
// [g*C/G, (g+1)*C/G).

import type { ConvSpec } from '../../shape';

export interface RefConvArgs {
  x: Float32Array;
  xShape: readonly number[];
  w: Float32Array;
  wShape: readonly number[];
  bias: Float32Array | null;
  residual: Float32Array | null;
  out: Float32Array;
  outShape: readonly number[];
  spec: ConvSpec;
}

export function referenceConv2d(a: RefConvArgs): void {
  const [N, C, H, W] = a.xShape;
  const [K, Cg, R, S] = a.wShape;
  const [, , P, Q] = a.outShape;
  const G = a.spec.groups;
  const Kg = K / G;
  const [sh, sw] = a.spec.stride;
  const [dh, dw] = a.spec.dilation;
  const [pt, pl] = a.spec.padding;
  const relu = a.spec.activation === 'relu';
  const acc = new Float64Array(P * Q);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const g = Math.floor(k / Kg);
      acc.fill(a.bias ? a.bias[k] : 0);
      for (let c = 0; c < Cg; c++) {
        const inBase = (n * C + g * Cg + c) * H * W;
        for (let r = 0; r < R; r++) {
          for (let s = 0; s < S; s++) {
            const wv = a.w[((k * Cg + c) * R + r) * S + s];
            const off = s * dw - pl;
            // Valid q: 0 <= q*sw + off < W.
            const q0 = off >= 0 ? 0 : Math.ceil(-off / sw);
            const q1 = Math.min(Q, W - 1 - off < 0 ? 0 : Math.floor((W - 1 - off) / sw) + 1);
            if (q0 >= q1) continue;
            for (let p = 0; p < P; p++) {
              const ih = p * sh - pt + r * dh;
              if (ih < 0 || ih >= H) continue;
              const row = inBase + ih * W + off;
              const o = p * Q;
              for (let q = q0; q < q1; q++) acc[o + q] += wv * a.x[row + q * sw];
            }
          }
        }
      }
      const outBase = (n * K + k) * P * Q;
      for (let i = 0; i < P * Q; i++) {
        let v = acc[i];
        if (a.residual) v += a.residual[outBase + i];
        if (relu && v < 0) v = 0;
        a.out[outBase + i] = v;
      }
    }
  }
}
