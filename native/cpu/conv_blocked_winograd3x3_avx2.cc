// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution on NCHW8c, AVX2 + FMA: 8 channels per
// block (one ymm), products of 6 tiles x 2 output blocks per micro-tile (12
// ymm accumulators, 2 weight vectors, 1 broadcast). Algorithm and layouts:
// conv_blocked_winograd3x3.inc.
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
constexpr int MB = 2;
#include "blocked_vec_avx2.inc"
#include "conv_blocked_winograd3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvWinograd3x3Avx2 = {
    "winograd3x3_nchw8c_avx2", Isa::kAvx2,     CB, BlockedWUnsupported<2>, BlockedWPackedSize<2>,
    BlockedWPack<2>,           BlockedWRun<2>,
    /*transformed=*/true};
extern const BlockedConv kBlockedConvWinograd43Avx2 = {
    "winograd43_nchw8c_avx2", Isa::kAvx2,          CB, BlockedWUnsupported<4>, BlockedWPackedSize<4>, BlockedWPack<4>,
    BlockedWRun<4>,           /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd3x3Avx2 = {
    "winograd3x3_nchw8c_avx2", 0, Isa::kAvx2, BlockedWUnsupported<2>, BlockedWPackedSize<2>, BlockedWPack<2>,
    BlockedWRunNchw<2>,
    /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd43Avx2 = {
    "winograd43_nchw8c_avx2", 0, Isa::kAvx2, BlockedWUnsupported<4>, BlockedWPackedSize<4>, BlockedWPack<4>,
    BlockedWRunNchw<4>,
    /*transformed=*/true};
}  // namespace resnext
#pragma GCC pop_options
