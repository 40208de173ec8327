// Grouped 3x3 convolution on NCHW8c, portable C++: 8 channels per block, 4
// output pixels per micro-tile. Algorithm and layouts:
// conv_blocked_grouped3x3.inc.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>

#include "resnext/conv_blocked.h"

namespace resnext {
namespace {

constexpr int NP = 4;
#include "blocked_vec_scalar.inc"
#include "conv_blocked_grouped3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvGrouped3x3Scalar = {
    "grouped3x3_nchw8c_scalar", Isa::kScalar,  CB,          BlockedG3Unsupported,
    BlockedG3PackedSize,        BlockedG3Pack, BlockedG3Run};
extern const ConvImpl kConvBlockedGrouped3x3Scalar = {"grouped3x3_nchw8c_scalar",
                                                      0,
                                                      Isa::kScalar,
                                                      BlockedG3Unsupported,
                                                      BlockedG3PackedSize,
                                                      BlockedG3Pack,
                                                      BlockedG3RunNchw};
}  // namespace resnext
