// 1x1 convolution on NCHW8c, portable C++: a "vector" is 8 floats in a
// struct (the compiler may use whatever SIMD the baseline target has), 4
// pixels x 2 output blocks per micro-tile. Algorithm and layouts:
// conv_blocked1x1.inc.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>

#include "resnext/conv_blocked.h"

namespace resnext {
namespace {

constexpr int NP = 4;
constexpr int MB = 2;
#include "blocked_vec_scalar.inc"
constexpr int64_t KCB = 256 / CB;
#include "conv_blocked1x1.inc"
}  // namespace

extern const BlockedConv kBlockedConv1x1Scalar = {
    "conv1x1_nchw8c_scalar", Isa::kScalar,          CB,
    Blocked1x1Unsupported,   Blocked1x1PackedSize,  Blocked1x1Pack,
    Blocked1x1Run,           /*transformed=*/false, /*residual_in_place=*/true,
    Blocked1x1RunNchwOut};
extern const ConvImpl kConvBlocked1x1Scalar = {"conv1x1_nchw8c_scalar",
                                               0,
                                               Isa::kScalar,
                                               Blocked1x1Unsupported,
                                               Blocked1x1PackedSize,
                                               Blocked1x1Pack,
                                               Blocked1x1RunNchw,
                                               /*transformed=*/false,
                                               /*per_run=*/nullptr,
                                               /*residual_in_place=*/&Blocked1x1ResidualInPlace};
}  // namespace resnext
