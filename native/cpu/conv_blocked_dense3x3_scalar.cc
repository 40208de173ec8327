// Dense 3x3 convolution on NCHW8c, portable C++: 8 channels per block, 4
// pixels x 2 output blocks per micro-tile. Algorithm and layouts:
// conv_blocked_dense3x3.inc.
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
#include "conv_blocked_dense3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvDense3x3Scalar = {
    "conv3x3_nchw8c_scalar", Isa::kScalar, CB, BlockedD3Unsupported, BlockedD3PackedSize, BlockedD3Pack, BlockedD3Run};
extern const ConvImpl kConvBlockedDense3x3Scalar = {
    "conv3x3_nchw8c_scalar", 0, Isa::kScalar, BlockedD3Unsupported, BlockedD3PackedSize, BlockedD3Pack,
    BlockedD3RunNchw};
}  // namespace resnext
