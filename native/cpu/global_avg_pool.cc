// Global average pooling (see resnext/global_avg_pool.h): one task per block
// of planes; each plane summed with four double accumulators.
#include "resnext/global_avg_pool.h"

#include <algorithm>
#include <cassert>

namespace resnext {

Status GlobalAvgPool(int64_t planes, int64_t hw, const float* x, float* y, ThreadPool& pool) {
  assert(planes >= 0 && hw >= 1);
  const int64_t per_task = std::max<int64_t>(1, (1 << 14) / hw);
  const int64_t tasks = (planes + per_task - 1) / per_task;
  pool.Run(tasks, [&](int64_t t, int) {
    const int64_t end = std::min(planes, (t + 1) * per_task);
    for (int64_t i = t * per_task; i < end; ++i) {
      const float* v = x + i * hw;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t j = 0;
      for (; j + 4 <= hw; j += 4) {
        s0 += v[j];
        s1 += v[j + 1];
        s2 += v[j + 2];
        s3 += v[j + 3];
      }
      for (; j < hw; ++j) s0 += v[j];
      y[i] = static_cast<float>(((s0 + s1) + (s2 + s3)) / static_cast<double>(hw));
    }
  });
  return Status::Ok();
}

}  // namespace resnext
