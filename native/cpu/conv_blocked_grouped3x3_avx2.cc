// Grouped 3x3 convolution on NCHW8c, AVX2 + FMA: 8 channels per block (one
// ymm), 6 output pixels per micro-tile, vpermps for the group-local input
// lanes. Algorithm and layouts: conv_blocked_grouped3x3.inc.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>

#include <immintrin.h>

#include "resnext/conv_blocked.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

constexpr int NP = 6;
#include "blocked_vec_avx2.inc"
#include "conv_blocked_grouped3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvGrouped3x3Avx2 = {
    "grouped3x3_nchw8c_avx2", Isa::kAvx2, CB, BlockedG3Unsupported, BlockedG3PackedSize, BlockedG3Pack, BlockedG3Run};
extern const ConvImpl kConvBlockedGrouped3x3Avx2 = {
    "grouped3x3_nchw8c_avx2", 0, Isa::kAvx2, BlockedG3Unsupported, BlockedG3PackedSize, BlockedG3Pack,
    BlockedG3RunNchw};
}  // namespace resnext
#pragma GCC pop_options
