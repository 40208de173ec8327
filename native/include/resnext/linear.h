// Fully connected kernel: y[n][o] = bias[o] + sum_i x[n][i] * w[o][i]
// (torch's nn.Linear layout, w [out][in]); bias may be null.
#pragma once

#include <cstdint>

#include "resnext/status.h"
#include "resnext/thread_pool.h"

namespace resnext {

Status Linear(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* bias, float* y,
              ThreadPool& pool);

}  // namespace resnext
