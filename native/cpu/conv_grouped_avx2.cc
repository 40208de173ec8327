// Direct grouped convolution for few channels per group (Cg < 16), AVX2+FMA:
// 8 output pixels per ymm, 4 output channels x 2 vectors of accumulators,
// vmaskmov epilogue. Algorithm and layouts: conv_grouped.inc.
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
#include "conv_grouped.inc"

}  // namespace

extern const ConvImpl kConvGroupedAvx2 = {"grouped_avx2",    50,          Isa::kAvx2, GroupedUnsupported,
                                          GroupedPackedSize, GroupedPack, GroupedRun};
}  // namespace resnext
#pragma GCC pop_options
