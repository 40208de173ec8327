// 2-D average pooling kernel (NCHW) with torch's semantics: padding per side,
// output lengths given by the caller (ceil mode included), divisor either the
// window clipped to the padded input (count_include_pad) or the number of
// input elements it covers. Validated by the caller; asserts only.
#pragma once

#include <cstdint>

#include "resnext/status.h"
#include "resnext/thread_pool.h"

namespace resnext {

struct AvgPool2dParams {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1;
  // Padding: top, left, bottom, right.
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  // Output height and width.
  int64_t P = 0, Q = 0;
  bool count_include_pad = true;
};

// x [N][C][H][W] -> y [N][C][P][Q]. Every window must overlap the input:
// (P - 1) * sh - pt < H and (Q - 1) * sw - pl < W, pads below the kernel.
Status AvgPool2d(const AvgPool2dParams& p, const float* x, float* y, ThreadPool& pool);

}  // namespace resnext
