// Grouped 3x3 convolution, stride 2, padding 1, few channels per group (Cg <
// 16), on per-task even/odd row and column planes; AVX-512: 16 output pixels
// per zmm, 4 output channels x 6 vectors of accumulators, permute-based row
// split. Algorithm and layouts: conv_grouped3x3s2.inc.
#include <atomic>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

#include "simd_avx512.inc"
#include "conv_grouped3x3s2.inc"

}  // namespace

extern const ConvImpl kConvGrouped3x3s2Avx512 = {"grouped3x3s2_avx512", 80,          Isa::kAvx512, S2Unsupported,
                                                 GroupedPackedSize,     GroupedPack, S2Run};
}  // namespace resnext
#pragma GCC pop_options
