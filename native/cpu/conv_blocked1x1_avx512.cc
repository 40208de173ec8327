// 1x1 convolution on NCHW16c, AVX-512: 16 channels per block (one zmm), 14
// pixels x 2 output blocks per micro-tile (28 zmm accumulators, 2 weight
// vectors, input broadcast from memory into the FMA). Algorithm and layouts:
// conv_blocked1x1.inc.
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

constexpr int NP = 14;
constexpr int MB = 2;
#include "blocked_vec_avx512.inc"
#include "transpose16_avx512.inc"
#define RESNEXT_B1X1_TRANSPOSE16 1
constexpr int64_t KCB = 256 / CB;
#include "conv_blocked1x1.inc"
}  // namespace

extern const BlockedConv kBlockedConv1x1Avx512 = {"conv1x1_nchw16c_avx512",
                                                  Isa::kAvx512,
                                                  CB,
                                                  Blocked1x1Unsupported,
                                                  Blocked1x1PackedSize,
                                                  Blocked1x1Pack,
                                                  Blocked1x1Run,
                                                  /*transformed=*/false,
                                                  /*residual_in_place=*/true,
                                                  Blocked1x1RunNchwOut};
extern const ConvImpl kConvBlocked1x1Avx512 = {"conv1x1_nchw16c_avx512",
                                               0,
                                               Isa::kAvx512,
                                               Blocked1x1Unsupported,
                                               Blocked1x1PackedSize,
                                               Blocked1x1Pack,
                                               Blocked1x1RunNchw,
                                               /*transformed=*/false,
                                               /*per_run=*/nullptr,
                                               /*residual_in_place=*/&Blocked1x1ResidualInPlace};
}  // namespace resnext
#pragma GCC pop_options
