// Depthwise 3x3 convolution, stride 1, padding 1, weights in registers and each
// input vector shared by the output rows that need it; AVX2+FMA: 8 columns per
// ymm, blocks of 3 rows x 2 vectors or 6 x 1. Algorithm and layouts:
// conv_depthwise3x3.inc.
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

#include "simd_avx2.inc"
constexpr int kDwWide = 2, kDwWideRB = 3;  // 6 accumulators + 9 weights of 16 ymm
constexpr int kDwMid = 2, kDwMidRB = 3;
constexpr int kDwNarrowRB = 6;
#include "conv_depthwise3x3.inc"

}  // namespace

extern const ConvImpl kConvDepthwise3x3Avx2 = {"depthwise3x3_avx2", 85,     Isa::kAvx2, DwUnsupported,
                                               DwPackedSize,        DwPack, DwRun};
}  // namespace resnext
#pragma GCC pop_options
