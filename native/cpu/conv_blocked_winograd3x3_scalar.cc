// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution on NCHW8c, portable C++: 8 channels per
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

extern const BlockedConv kBlockedConvWinograd3x3Scalar = {"winograd3x3_nchw8c_scalar",
                                                          Isa::kScalar,
                                                          CB,
                                                          BlockedWUnsupported<2>,
                                                          BlockedWPackedSize<2>,
                                                          BlockedWPack<2>,
                                                          BlockedWRun<2>,
                                                          /*transformed=*/true};
extern const BlockedConv kBlockedConvWinograd43Scalar = {"winograd43_nchw8c_scalar",
                                                         Isa::kScalar,
                                                         CB,
                                                         BlockedWUnsupported<4>,
                                                         BlockedWPackedSize<4>,
                                                         BlockedWPack<4>,
                                                         BlockedWRun<4>,
                                                         /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd3x3Scalar = {
    "winograd3x3_nchw8c_scalar", 0, Isa::kScalar, BlockedWUnsupported<2>, BlockedWPackedSize<2>, BlockedWPack<2>,
    BlockedWRunNchw<2>,
    /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd43Scalar = {
    "winograd43_nchw8c_scalar", 0, Isa::kScalar, BlockedWUnsupported<4>, BlockedWPackedSize<4>, BlockedWPack<4>,
    BlockedWRunNchw<4>,
    /*transformed=*/true};
}  // namespace resnext
