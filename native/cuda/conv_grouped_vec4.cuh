// Per-thread body of the vectorised grouped convolution, for C/G and K/G that
// are multiples of 4 (every ResNeXt grouped layer: 4 to 64 channels per group):
// one thread computes 4 consecutive output channels of one group for TQ
// consecutive output pixels of a row, i.e. a 4 x TQ register tile.
// Layouts as in conv_grouped.h: x NHWC, w [R][S][C/G][K], y/residual NHWC.
//
// Why: the generic kernel issues one load per FMA. Here, per 4 input channels,
// TQ 4-wide input loads and 4 4-wide weight loads feed 16*TQ FMAs, the 4
// outputs of a thread share their group's inputs, and stores are 4-wide with a
// warp writing 128 consecutive channels. Several groups per block as before.
#pragma once

#include "cuda/conv_dims.h"
#include "cuda/element.cuh"

namespace resnext {
namespace cuda {

template <typename T, int TQ>
__host__ __device__ __forceinline__ void GroupedVec4Thread(const ConvDims& d, int k4, int64_t tile,
                                                           const T* __restrict__ x, const T* __restrict__ w,
                                                           const float* __restrict__ bias,
                                                           const T* __restrict__ residual, T* __restrict__ y) {
  const int k0 = k4 * 4;
  const int q_tiles = (d.Q + TQ - 1) / TQ;
  if (k0 >= d.K || tile >= int64_t(d.N) * d.P * q_tiles) return;
  const int qt = static_cast<int>(tile % q_tiles);
  const int64_t np = tile / q_tiles;
  const int p = static_cast<int>(np % d.P);
  const int n = static_cast<int>(np / d.P);
  const int q0 = qt * TQ;
  const int c0 = (k0 / d.Kg) * d.Cg;

  float acc[TQ][4];
#pragma unroll
  for (int j = 0; j < TQ; j++)
#pragma unroll
    for (int i = 0; i < 4; i++) acc[j][i] = 0.f;

  const int h_base = p * d.sh - d.pt;
  for (int r = 0; r < d.R; r++) {
    const int h = h_base + r * d.dh;
    if (h < 0 || h >= d.H) continue;
    const T* x_row = x + (int64_t(n) * d.H + h) * int64_t(d.W) * d.C + c0;
    for (int s = 0; s < d.S; s++) {
      const T* w_rs = w + (int64_t(r) * d.S + s) * int64_t(d.Cg) * d.K + k0;
      const T* x_pix[TQ];
      bool ok[TQ];
#pragma unroll
      for (int j = 0; j < TQ; j++) {
        const int wc = (q0 + j) * d.sw - d.pl + s * d.dw;
        ok[j] = (q0 + j) < d.Q && wc >= 0 && wc < d.W;
        x_pix[j] = x_row + int64_t(ok[j] ? wc : 0) * d.C;
      }
      for (int c = 0; c < d.Cg; c += 4) {
        float wv[4][4];  // [input channel c..c+3][output channel k0..k0+3]
#pragma unroll
        for (int ci = 0; ci < 4; ci++) Load4(w_rs + int64_t(c + ci) * d.K, wv[ci]);
#pragma unroll
        for (int j = 0; j < TQ; j++) {
          if (!ok[j]) continue;
          float xv[4];
          Load4(x_pix[j] + c, xv);
#pragma unroll
          for (int ci = 0; ci < 4; ci++)
#pragma unroll
            for (int i = 0; i < 4; i++) acc[j][i] = fmaf(xv[ci], wv[ci][i], acc[j][i]);
        }
      }
    }
  }

  float b[4] = {0.f, 0.f, 0.f, 0.f};
  if (bias) {
#pragma unroll
    for (int i = 0; i < 4; i++) b[i] = bias[k0 + i];
  }
#pragma unroll
  for (int j = 0; j < TQ; j++) {
    const int q = q0 + j;
    if (q >= d.Q) break;
    const int64_t o = ((int64_t(n) * d.P + p) * d.Q + q) * d.K + k0;
    float v[4];
#pragma unroll
    for (int i = 0; i < 4; i++) v[i] = acc[j][i] + b[i];
    if (residual) {
      float rv[4];
      Load4(residual + o, rv);
#pragma unroll
      for (int i = 0; i < 4; i++) v[i] += rv[i];
    }
    if (d.relu) {
#pragma unroll
      for (int i = 0; i < 4; i++) v[i] = Relu(v[i]);
    }
    Store4(y + o, v);
  }
}

}  // namespace cuda
}  // namespace resnext
