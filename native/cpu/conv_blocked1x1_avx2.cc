// 1x1 convolution on NCHW8c, AVX2 + FMA: 8 channels per block (one ymm), 6
// pixels x 2 output blocks per micro-tile (12 ymm accumulators, 2 weight
// vectors, 1 broadcast input). Algorithm and layouts: conv_blocked1x1.inc.
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
constexpr int64_t KCB = 256 / CB;
#include "conv_blocked1x1.inc"
}  // namespace

extern const BlockedConv kBlockedConv1x1Avx2 = {"conv1x1_nchw8c_avx2",
                                                Isa::kAvx2,
                                                CB,
                                                Blocked1x1Unsupported,
                                                Blocked1x1PackedSize,
                                                Blocked1x1Pack,
                                                Blocked1x1Run,
                                                /*transformed=*/false,
                                                /*residual_in_place=*/true,
                                                Blocked1x1RunNchwOut};
extern const ConvImpl kConvBlocked1x1Avx2 = {"conv1x1_nchw8c_avx2",
                                             0,
                                             Isa::kAvx2,
                                             Blocked1x1Unsupported,
                                             Blocked1x1PackedSize,
                                             Blocked1x1Pack,
                                             Blocked1x1RunNchw,
                                             /*transformed=*/false,
                                             /*per_run=*/nullptr,
                                             /*residual_in_place=*/&Blocked1x1ResidualInPlace};
}  // namespace resnext
#pragma GCC pop_options
