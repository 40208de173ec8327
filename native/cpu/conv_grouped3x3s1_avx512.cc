// Grouped 3x3 convolution, stride 1, padding 1, few channels per group (Cg <
// 16), reading the NCHW input in place; AVX-512: 16 output pixels per zmm, 4
// output channels x 6 vectors of accumulators, k-register masks for the padding
// lanes.
// Algorithm and layouts: conv_grouped3x3s1.inc.
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

#include "simd_avx512.inc"
#include "conv_grouped3x3s1.inc"

}  // namespace

extern const ConvImpl kConvGrouped3x3s1Avx512 = {"grouped3x3s1_avx512", 80,          Isa::kAvx512, G3Unsupported,
                                                 GroupedPackedSize,     GroupedPack, G3Run};
}  // namespace resnext
#pragma GCC pop_options
