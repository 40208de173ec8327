// Per-output bodies of the model ops (model_ops.h), __host__ __device__ so the
// kernels and the CPU emulation (tools/emulate_kernels.cu) share them.
// Layouts: pools NHWC; linear x [N][C], w [M][C] float32, y [N][M].
#pragma once

#include <cmath>

#include "cuda/element.cuh"
#include "cuda/model_ops.h"

namespace resnext {
namespace cuda {

// Output element i of the max pool, i indexing [N][P][Q][C]. Padding never
// wins (it is -inf); a NaN in the window is the result, as in PyTorch.
template <typename T>
__host__ __device__ inline float MaxPoolAt(const PoolDims& d, const T* x, int64_t i) {
  const int64_t c = i % d.C;
  int64_t t = i / d.C;
  const int64_t q = t % d.Q;
  t /= d.Q;
  const int64_t p = t % d.P;
  const int64_t n = t / d.P;
  float m = -INFINITY;
  for (int r = 0; r < d.kh; r++) {
    const int64_t h = p * d.sh - d.ph + r;
    if (h < 0 || h >= d.H) continue;
    for (int s = 0; s < d.kw; s++) {
      const int64_t w = q * d.sw - d.pw + s;
      if (w < 0 || w >= d.W) continue;
      const float v = ToFloat(Ldg(x + ((n * d.H + h) * d.W + w) * d.C + c));
      // v != v is NaN; once m is NaN, v > m is false for every v, so it sticks.
      if (v != v || v > m) m = v;
    }
  }
  return m;
}

// Mean over HW of channel c of image n; consecutive threads take consecutive
// channels so every HW step is one coalesced row read.
template <typename T>
__host__ __device__ inline float AvgPoolAt(int64_t HW, int64_t C, const T* x, int64_t n, int64_t c) {
  float acc = 0.f;
  const T* base = x + n * HW * C + c;
  for (int64_t i = 0; i < HW; i++) acc += ToFloat(Ldg(base + i * C));
  return acc / static_cast<float>(HW);
}

// One lane's partial dot products of weight row m with up to kLinearRows
// input rows n0.., over c = lane, lane + lanes, ... (summed across lanes by
// the caller). Each weight value is read once for all the rows.
constexpr int kLinearRows = 8;

template <typename T>
__host__ __device__ inline void LinearLane(int64_t C, const T* x, const float* w, int64_t m, int64_t n0, int rows,
                                           int lane, int lanes, float acc[kLinearRows]) {
  for (int j = 0; j < kLinearRows; j++) acc[j] = 0.f;
  const float* wr = w + m * C;
  for (int64_t c = lane; c < C; c += lanes) {
    const float wv = Ldg(wr + c);
    for (int j = 0; j < kLinearRows; j++) {
      if (j < rows) acc[j] += wv * ToFloat(Ldg(x + (n0 + j) * C + c));
    }
  }
}

}  // namespace cuda
}  // namespace resnext
