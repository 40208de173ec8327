// Average pooling over NCHW planes (see resnext/avg_pool2d.h). A window sum is
// separable, so each plane is pooled in two passes through a per-thread
// scratch of H x Q floats: sums along each row (window kw, stride sw), then
// down the columns (window kh, stride sh), kw + kh adds per output instead of
// kw * kh, the second pass a contiguous, vectorisable row-wise add. Both
// divisors are products of a height and a width term, so the per-column width
// terms are computed once per plane. One task per block of planes.
#include "resnext/avg_pool2d.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <string>

namespace resnext {

namespace {

void PoolPlane(const AvgPool2dParams& p, const float* x, float* y, float* rows, float* col_div) {
  const int64_t P = p.P, Q = p.Q;
  for (int64_t q = 0; q < Q; ++q) {
    const int64_t w0 = q * p.sw - p.pl;
    const int64_t w1 = std::min<int64_t>(w0 + p.kw, p.W + p.pr);
    const int64_t wb = std::max<int64_t>(0, w0), we = std::min<int64_t>(p.W, w1);
    col_div[q] = static_cast<float>(p.count_include_pad ? w1 - w0 : we - wb);
  }
  // Pass 1: rows[h][q] = sum over the clipped horizontal window of x[h].
  for (int64_t h = 0; h < p.H; ++h) {
    const float* xr = x + h * p.W;
    float* rr = rows + h * Q;
    for (int64_t q = 0; q < Q; ++q) {
      const int64_t w0 = q * p.sw - p.pl;
      const int64_t wb = std::max<int64_t>(0, w0), we = std::min<int64_t>(p.W, w0 + p.kw);
      float s = 0.f;
      for (int64_t w = wb; w < we; ++w) s += xr[w];
      rr[q] = s;
    }
  }
  // Pass 2: y[p][q] = sum over the clipped vertical window of rows[.][q], divided.
  for (int64_t oh = 0; oh < P; ++oh) {
    const int64_t h0 = oh * p.sh - p.pt;
    const int64_t h1 = std::min<int64_t>(h0 + p.kh, p.H + p.pb);
    const int64_t hb = std::max<int64_t>(0, h0), he = std::min<int64_t>(p.H, h1);
    const float row_div = static_cast<float>(p.count_include_pad ? h1 - h0 : he - hb);
    float* yr = y + oh * Q;
    const float* r0 = rows + hb * Q;
    for (int64_t q = 0; q < Q; ++q) yr[q] = r0[q];
    for (int64_t h = hb + 1; h < he; ++h) {
      const float* rh = rows + h * Q;
      for (int64_t q = 0; q < Q; ++q) yr[q] += rh[q];
    }
    for (int64_t q = 0; q < Q; ++q) yr[q] /= row_div * col_div[q];
  }
}

}  // namespace

Status AvgPool2d(const AvgPool2dParams& p, const float* x, float* y, ThreadPool& pool) {
  assert(p.P >= 1 && p.Q >= 1 && (p.P - 1) * p.sh - p.pt < p.H && (p.Q - 1) * p.sw - p.pl < p.W);
  const int64_t planes = p.N * p.C;
  const int64_t in_plane = p.H * p.W, out_plane = p.P * p.Q;
  // About 64 KiB of input per task keeps scheduling overhead negligible.
  const int64_t per_task = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, in_plane));
  const int64_t tasks = (planes + per_task - 1) / per_task;
  const int64_t scratch = p.H * p.Q + p.Q;
  std::atomic<bool> no_memory{false};
  pool.Run(tasks, [&](int64_t t, int thread) {
    float* rows = pool.Scratch(thread, scratch);
    if (rows == nullptr) {
      no_memory = true;
      return;
    }
    const int64_t end = std::min(planes, (t + 1) * per_task);
    for (int64_t i = t * per_task; i < end; ++i)
      PoolPlane(p, x + i * in_plane, y + i * out_plane, rows, rows + p.H * p.Q);
  });
  if (no_memory)
    return Status::OutOfMemory("avgPool2d: could not allocate " + std::to_string(scratch * 4) + " bytes of scratch");
  return Status::Ok();
}

}  // namespace resnext
