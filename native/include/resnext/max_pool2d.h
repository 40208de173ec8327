// 2-D max pooling kernel (NCHW, or the blocked channel layout). Padded positions never win (torch semantics:
// padding is -inf); NaN propagates. Validated by the caller; asserts only.
#pragma once

#include <cstdint>

#include "resnext/status.h"
#include "resnext/thread_pool.h"

namespace resnext {

struct MaxPool2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t kh = 3, kw = 3, sh = 2, sw = 2, ph = 1, pw = 1;
  // Layouts: 0 NCHW, 8 or 16 the blocked layout [N][ceil(C/cb)][H][W][cb] (lanes past C zero).
  // Supported: NCHW -> NCHW, NCHW -> blocked (padding lanes written zero), blocked -> blocked with
  // the same cb (padding lanes pooled like the others: zero in, zero out).
  int cb_in = 0, cb_out = 0;
  int64_t P() const { return (H + 2 * ph - kh) / sh + 1; }
  int64_t Q() const { return (W + 2 * pw - kw) / sw + 1; }
};

// x [N][C][H][W] -> y [N][C][P][Q] (or blocked, per cb_in / cb_out).
Status MaxPool2d(const MaxPool2dParams& p, const float* x, float* y, ThreadPool& pool);

}  // namespace resnext
