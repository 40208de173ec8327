// Grouped 3x3 convolution, stride 2, padding 1, few channels per group (Cg <
// 16), on per-task even/odd row and column planes; AVX2+FMA: 8 output pixels
// per ymm, 4 output channels x 2 vectors of accumulators. Algorithm and
// layouts: conv_grouped3x3s2.inc.
#include <atomic>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

#include "simd_avx2.inc"
#include "conv_grouped3x3s2.inc"

}  // namespace

extern const ConvImpl kConvGrouped3x3s2Avx2 = {"grouped3x3s2_avx2", 70,          Isa::kAvx2, S2Unsupported,
                                               GroupedPackedSize,   GroupedPack, S2Run};
}  // namespace resnext
#pragma GCC pop_options
