// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution on NCHW16c, AVX-512: 16 channels per
// block (one zmm), products of 7 tiles x 4 output blocks per micro-tile (28
// zmm accumulators, 4 weight vectors, transformed input broadcast from
// memory into the FMA). Algorithm and layouts: conv_blocked_winograd3x3.inc.
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

constexpr int NP = 7;
constexpr int MB = 4;
#include "blocked_vec_avx512.inc"
#include "conv_blocked_winograd3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvWinograd3x3Avx512 = {"winograd3x3_nchw16c_avx512",
                                                          Isa::kAvx512,
                                                          CB,
                                                          BlockedWUnsupported<2>,
                                                          BlockedWPackedSize<2>,
                                                          BlockedWPack<2>,
                                                          BlockedWRun<2>,
                                                          /*transformed=*/true};
extern const BlockedConv kBlockedConvWinograd43Avx512 = {"winograd43_nchw16c_avx512",
                                                         Isa::kAvx512,
                                                         CB,
                                                         BlockedWUnsupported<4>,
                                                         BlockedWPackedSize<4>,
                                                         BlockedWPack<4>,
                                                         BlockedWRun<4>,
                                                         /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd3x3Avx512 = {
    "winograd3x3_nchw16c_avx512", 0, Isa::kAvx512, BlockedWUnsupported<2>, BlockedWPackedSize<2>, BlockedWPack<2>,
    BlockedWRunNchw<2>,
    /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd43Avx512 = {
    "winograd43_nchw16c_avx512", 0, Isa::kAvx512, BlockedWUnsupported<4>, BlockedWPackedSize<4>, BlockedWPack<4>,
    BlockedWRunNchw<4>,
    /*transformed=*/true};
}  // namespace resnext
#pragma GCC pop_options
