// Dense 3x3 convolution on NCHW8c, AVX2 + FMA: 8 channels per block (one
// ymm), 6 pixels x 2 output blocks per micro-tile (12 ymm accumulators, 2
// weight vectors, 1 broadcast). Algorithm and layouts:
// conv_blocked_dense3x3.inc.
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
#include "conv_blocked_dense3x3.inc"
}  // namespace

extern const BlockedConv kBlockedConvDense3x3Avx2 = {
    "conv3x3_nchw8c_avx2", Isa::kAvx2, CB, BlockedD3Unsupported, BlockedD3PackedSize, BlockedD3Pack, BlockedD3Run};
extern const ConvImpl kConvBlockedDense3x3Avx2 = {
    "conv3x3_nchw8c_avx2", 0, Isa::kAvx2, BlockedD3Unsupported, BlockedD3PackedSize, BlockedD3Pack, BlockedD3RunNchw};
}  // namespace resnext
#pragma GCC pop_options
