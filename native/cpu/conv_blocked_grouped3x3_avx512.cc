// Grouped 3x3 convolution on NCHW16c, AVX-512: 16 channels per block (one
// zmm), 8 output pixels per micro-tile, vpermps for the group-local input
// lanes. Algorithm and layouts: conv_blocked_grouped3x3.inc.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>

#include <immintrin.h>

#include "resnext/conv_blocked.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

constexpr int NP = 8;
#include "blocked_vec_avx512.inc"
#include "conv_blocked_grouped3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvGrouped3x3Avx512 = {
    "grouped3x3_nchw16c_avx512", Isa::kAvx512,  CB,          BlockedG3Unsupported,
    BlockedG3PackedSize,         BlockedG3Pack, BlockedG3Run};
extern const ConvImpl kConvBlockedGrouped3x3Avx512 = {"grouped3x3_nchw16c_avx512",
                                                      0,
                                                      Isa::kAvx512,
                                                      BlockedG3Unsupported,
                                                      BlockedG3PackedSize,
                                                      BlockedG3Pack,
                                                      BlockedG3RunNchw};
}  // namespace resnext
#pragma GCC pop_options
