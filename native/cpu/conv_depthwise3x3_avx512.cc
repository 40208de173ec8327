// Depthwise 3x3 convolution, stride 1, padding 1, weights in registers and each
// input vector shared by the output rows that need it; AVX-512: 16 columns per
// zmm, blocks of 4 rows x 4 vectors (wide rows), 8 x 2 or 16 x 1. Algorithm and
// layouts: conv_depthwise3x3.inc.
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

#include "simd_avx512.inc"
constexpr int kDwWide = 4, kDwWideRB = 4;  // 16 accumulators + 9 weights of 32 zmm
constexpr int kDwMid = 2, kDwMidRB = 8;
constexpr int kDwNarrowRB = 16;
#include "conv_depthwise3x3.inc"

}  // namespace

extern const ConvImpl kConvDepthwise3x3Avx512 = {"depthwise3x3_avx512", 90,     Isa::kAvx512, DwUnsupported,
                                                 DwPackedSize,          DwPack, DwRun};
}  // namespace resnext
#pragma GCC pop_options
