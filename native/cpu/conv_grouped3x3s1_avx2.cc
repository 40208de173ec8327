// Grouped 3x3 convolution, stride 1, padding 1, few channels per group (Cg <
// 16), reading the NCHW input in place; AVX2+FMA: 8 output pixels per ymm, 4
// output channels x 2 vectors of accumulators, vmaskmov for the padding lanes.
// Algorithm and layouts: conv_grouped3x3s1.inc.
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

#include "simd_avx2.inc"
#include "conv_grouped3x3s1.inc"

}  // namespace

extern const ConvImpl kConvGrouped3x3s1Avx2 = {"grouped3x3s1_avx2", 70,          Isa::kAvx2, G3Unsupported,
                                               GroupedPackedSize,   GroupedPack, G3Run};
}  // namespace resnext
#pragma GCC pop_options
