// The one place where convolution parameters are checked in C++.
// The TS layer validates first with friendlier messages; this is the native
// boundary's re-check so that a direct call into the addon can never reach a
// kernel with parameters that would read or write out of bounds.
#pragma once

#include "resnext/conv_params.h"
#include "resnext/status.h"

namespace resnext {

// Largest element count accepted for any one tensor (2^31 - 1): indices in the
// kernels are 64-bit, but JS typed arrays and sane memory use stop here.
constexpr int64_t kMaxElements = (int64_t{1} << 31) - 1;

// Checks everything about p except the data pointers. Names the parameter and
// the value in the message.
Status ValidateConvParams(const ConvParams& p);

// Checks p without the input sizes (N, H, W): what a plan can check at creation.
Status ValidateConvPlanParams(const ConvParams& p);

}  // namespace resnext
