// Global average pooling kernel: x [N*C][HW] -> y [N*C], the mean of each
// plane (summed in double, so the result does not depend on HW's size order).
#pragma once

#include <cstdint>

#include "resnext/status.h"
#include "resnext/thread_pool.h"

namespace resnext {

Status GlobalAvgPool(int64_t planes, int64_t hw, const float* x, float* y, ThreadPool& pool);

// The same from the blocked layout: x [N][ceil(C/cb)][hw][cb] (cb 8 or 16; padding lanes ignored) -> y [N][C].
Status GlobalAvgPoolBlocked(int64_t N, int64_t C, int64_t hw, int cb, const float* x, float* y, ThreadPool& pool);

}  // namespace resnext
