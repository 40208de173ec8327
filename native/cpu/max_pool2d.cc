// Max pooling over NCHW planes (see resnext/max_pool2d.h). Max is separable,
// so each plane is pooled in two passes through a per-thread scratch of
// H x Q floats: along each row (window kw, stride sw) and then down the
// columns (window kh, stride sh), which costs kw + kh comparisons per output
// instead of kw * kh and makes the second pass a contiguous, vectorisable
// row-wise max. One task per block of planes. Padding never wins: windows
// are clipped to the input (torch's -inf padding).
#include "resnext/max_pool2d.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <limits>
#include <string>

namespace resnext {

namespace {

// NaN-propagating max, as torch: once a NaN is seen it stays. Written so the
// compiler emits compare + blend, not a branch (on random data a branch here
// mispredicts often enough to cost 4x).
inline float Max(float m, float v) { return (v > m || v != v) ? v : m; }

void PoolPlane(const MaxPool2dParams& p, const float* x, float* y, float* rows) {
  const int64_t P = p.P(), Q = p.Q();
  // Pass 1: rows[h][q] = max over the clipped horizontal window of x[h].
  for (int64_t h = 0; h < p.H; ++h) {
    const float* xr = x + h * p.W;
    float* rr = rows + h * Q;
    for (int64_t q = 0; q < Q; ++q) {
      const int64_t w0 = q * p.sw - p.pw;
      const int64_t wb = std::max<int64_t>(0, w0), we = std::min<int64_t>(p.W, w0 + p.kw);
      // A plain max and a separate NaN flag keep this short loop branch-free.
      float m = -std::numeric_limits<float>::infinity();
      bool nan = false;
      for (int64_t w = wb; w < we; ++w) {
        const float v = xr[w];
        m = v > m ? v : m;
        nan |= v != v;
      }
      rr[q] = nan ? std::numeric_limits<float>::quiet_NaN() : m;
    }
  }
  // Pass 2: y[p][q] = max over the clipped vertical window of rows[.][q].
  for (int64_t oh = 0; oh < P; ++oh) {
    const int64_t h0 = oh * p.sh - p.ph;
    const int64_t hb = std::max<int64_t>(0, h0), he = std::min<int64_t>(p.H, h0 + p.kh);
    float* yr = y + oh * Q;
    const float* r0 = rows + hb * Q;
    for (int64_t q = 0; q < Q; ++q) yr[q] = r0[q];
    for (int64_t h = hb + 1; h < he; ++h) {
      const float* rh = rows + h * Q;
      for (int64_t q = 0; q < Q; ++q) yr[q] = Max(yr[q], rh[q]);
    }
  }
}

}  // namespace

Status MaxPool2d(const MaxPool2dParams& p, const float* x, float* y, ThreadPool& pool) {
  assert(p.P() >= 1 && p.Q() >= 1 && 2 * p.ph <= p.kh && 2 * p.pw <= p.kw);
  const int64_t planes = p.N * p.C;
  const int64_t in_plane = p.H * p.W, out_plane = p.P() * p.Q();
  // About 64 KiB of input per task keeps scheduling overhead negligible.
  const int64_t per_task = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, in_plane));
  const int64_t tasks = (planes + per_task - 1) / per_task;
  const int64_t scratch = p.H * p.Q();
  std::atomic<bool> no_memory{false};
  pool.Run(tasks, [&](int64_t t, int thread) {
    float* rows = pool.Scratch(thread, scratch);
    if (rows == nullptr) {
      no_memory = true;
      return;
    }
    const int64_t end = std::min(planes, (t + 1) * per_task);
    for (int64_t i = t * per_task; i < end; ++i) PoolPlane(p, x + i * in_plane, y + i * out_plane, rows);
  });
  if (no_memory)
    return Status::OutOfMemory("maxPool2d: could not allocate " + std::to_string(scratch * 4) + " bytes of scratch");
  return Status::Ok();
}

}  // namespace resnext
