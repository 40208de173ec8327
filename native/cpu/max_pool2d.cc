// Max pooling over NCHW planes (see resnext/max_pool2d.h). One task per block
// of planes; within a plane, rows whose window lies fully inside the input
// take a branch-free inner loop, border rows clip the window.
#include "resnext/max_pool2d.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace resnext {

namespace {

void PoolPlane(const MaxPool2dParams& p, const float* x, float* y) {
  const int64_t P = p.P(), Q = p.Q();
  for (int64_t oh = 0; oh < P; ++oh) {
    const int64_t h0 = oh * p.sh - p.ph;
    const int64_t hb = std::max<int64_t>(0, h0), he = std::min<int64_t>(p.H, h0 + p.kh);
    for (int64_t ow = 0; ow < Q; ++ow) {
      const int64_t w0 = ow * p.sw - p.pw;
      const int64_t wb = std::max<int64_t>(0, w0), we = std::min<int64_t>(p.W, w0 + p.kw);
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t h = hb; h < he; ++h) {
        const float* row = x + h * p.W;
        for (int64_t w = wb; w < we; ++w) {
          const float v = row[w];
          // v != v keeps a NaN once seen, as torch does.
          m = (v > m || v != v) ? v : m;
        }
      }
      y[oh * Q + ow] = m;
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
  pool.Run(tasks, [&](int64_t t, int) {
    const int64_t end = std::min(planes, (t + 1) * per_task);
    for (int64_t i = t * per_task; i < end; ++i) PoolPlane(p, x + i * in_plane, y + i * out_plane);
  });
  return Status::Ok();
}

}  // namespace resnext
