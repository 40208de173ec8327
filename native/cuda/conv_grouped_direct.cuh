// Per-thread body of the generic grouped direct convolution (any C/G, K/G):
// one output channel k and TQ consecutive output pixels of one row.
// Layouts as in conv_grouped.h: x NHWC, w [R][S][C/G][K], y/residual NHWC.
//
// A block covers up to 128 consecutive output channels (several groups), so
// the warp's weight loads are 32 consecutive values and its stores coalesce;
// each thread sums only over its own group's C/G input channels.
#pragma once

#include "cuda/conv_dims.h"
#include "cuda/element.cuh"

namespace resnext {
namespace cuda {

template <typename T, int TQ>
__host__ __device__ __forceinline__ void GroupedDirectThread(const ConvDims& d, int k, int64_t tile,
                                                             const T* __restrict__ x, const T* __restrict__ w,
                                                             const float* __restrict__ bias,
                                                             const T* __restrict__ residual, T* __restrict__ y) {
  const int q_tiles = (d.Q + TQ - 1) / TQ;
  if (k >= d.K || tile >= int64_t(d.N) * d.P * q_tiles) return;
  const int qt = static_cast<int>(tile % q_tiles);
  const int64_t np = tile / q_tiles;
  const int p = static_cast<int>(np % d.P);
  const int n = static_cast<int>(np / d.P);
  const int q0 = qt * TQ;
  const int c0 = (k / d.Kg) * d.Cg;

  float acc[TQ];
#pragma unroll
  for (int j = 0; j < TQ; j++) acc[j] = 0.f;

  const int h_base = p * d.sh - d.pt;
  for (int r = 0; r < d.R; r++) {
    const int h = h_base + r * d.dh;
    if (h < 0 || h >= d.H) continue;
    const T* x_row = x + (int64_t(n) * d.H + h) * int64_t(d.W) * d.C + c0;
    for (int s = 0; s < d.S; s++) {
      const T* w_rs = w + (int64_t(r) * d.S + s) * int64_t(d.Cg) * d.K + k;
      const T* x_pix[TQ];
      bool ok[TQ];
#pragma unroll
      for (int j = 0; j < TQ; j++) {
        const int wc = (q0 + j) * d.sw - d.pl + s * d.dw;
        ok[j] = (q0 + j) < d.Q && wc >= 0 && wc < d.W;
        x_pix[j] = x_row + int64_t(ok[j] ? wc : 0) * d.C;
      }
      for (int c = 0; c < d.Cg; c++) {
        const float wv = ToFloat(Ldg(w_rs + int64_t(c) * d.K));
#pragma unroll
        for (int j = 0; j < TQ; j++) {
          if (ok[j]) acc[j] = fmaf(ToFloat(Ldg(x_pix[j] + c)), wv, acc[j]);
        }
      }
    }
  }

  const float b = bias ? bias[k] : 0.f;
#pragma unroll
  for (int j = 0; j < TQ; j++) {
    const int q = q0 + j;
    if (q >= d.Q) break;
    const int64_t o = ((int64_t(n) * d.P + p) * d.Q + q) * d.K + k;
    float v = acc[j] + b;
    if (residual) v += ToFloat(residual[o]);
    if (d.relu) v = Relu(v);
    y[o] = FromFloat<T>(v);
  }
}

}  // namespace cuda
}  // namespace resnext
