// Winograd F(2x2, 3x3) convolution on NCHW8c, portable C++: 8 channels per
// block, products of 4 tiles x 2 output blocks per micro-tile. Algorithm and
// layouts: conv_blocked_winograd3x3.inc.
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
#include "conv_blocked_winograd3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvWinograd3x3Scalar = {
    "winograd3x3_nchw8c_scalar", Isa::kScalar,  CB,           BlockedW3Unsupported,
    BlockedW3PackedSize,         BlockedW3Pack, BlockedW3Run, /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd3x3Scalar = {"winograd3x3_nchw8c_scalar",
                                                       0,
                                                       Isa::kScalar,
                                                       BlockedW3Unsupported,
                                                       BlockedW3PackedSize,
                                                       BlockedW3Pack,
                                                       BlockedW3RunNchw,
                                                       /*transformed=*/true};
}  // namespace resnext
