// Global average pooling (see resnext/global_avg_pool.h), NCHW or blocked
// input; the per-ISA bodies are in pool_kernels.inc (chosen by the ISA cap).
// NCHW: one task per group of planes, each plane summed in double over
// whole vectors of accumulators. Blocked [N][C/cb][HW][cb]: one task per
// group of channel blocks, the cb channels of a block in the lanes (every
// load a whole contiguous vector), summed in double.
#include "resnext/global_avg_pool.h"

#include <algorithm>
#include <cassert>

#include "resnext/pool_kernels.h"

namespace resnext {

Status GlobalAvgPool(int64_t planes, int64_t hw, const float* x, float* y, ThreadPool& pool) {
  assert(planes >= 0 && hw >= 1);
  const PoolKernels& k = FindPoolKernels();
  const int64_t per_task = std::max<int64_t>(1, (1 << 14) / hw);
  const int64_t tasks = (planes + per_task - 1) / per_task;
  pool.Run(tasks, [&](int64_t t, int) {
    const int64_t begin = t * per_task, end = std::min(planes, begin + per_task);
    k.avg_planes(end - begin, hw, x + begin * hw, y + begin);
  });
  return Status::Ok();
}

Status GlobalAvgPoolBlocked(int64_t N, int64_t C, int64_t hw, int cb, const float* x, float* y, ThreadPool& pool) {
  assert(N >= 0 && C >= 1 && hw >= 1 && (cb == 8 || cb == 16));
  const PoolKernels& k = FindPoolKernels();
  const int64_t Cb = (C + cb - 1) / cb, blocks = N * Cb;
  const int64_t per_task = std::max<int64_t>(1, (1 << 14) / (hw * cb));
  const int64_t tasks = (blocks + per_task - 1) / per_task;
  pool.Run(tasks, [&](int64_t t, int) {
    const int64_t end = std::min(blocks, (t + 1) * per_task);
    for (int64_t i = t * per_task; i < end; ++i) {
      const int64_t n = i / Cb, b = i % Cb;
      k.avg_block(hw, cb, std::min<int64_t>(cb, C - b * cb), x + i * hw * cb, y + n * C + b * cb);
    }
  });
  return Status::Ok();
}

}  // namespace resnext
