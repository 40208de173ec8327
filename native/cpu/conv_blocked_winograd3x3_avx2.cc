// Winograd F(2x2, 3x3) convolution on NCHW8c, AVX2 + FMA: 8 channels per
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
    "winograd3x3_nchw8c_avx2", Isa::kAvx2,    CB,           BlockedW3Unsupported,
    BlockedW3PackedSize,       BlockedW3Pack, BlockedW3Run, /*transformed=*/true};
extern const ConvImpl kConvBlockedWinograd3x3Avx2 = {
    "winograd3x3_nchw8c_avx2", 0, Isa::kAvx2, BlockedW3Unsupported, BlockedW3PackedSize, BlockedW3Pack,
    BlockedW3RunNchw,
    /*transformed=*/true};
}  // namespace resnext
#pragma GCC pop_options
