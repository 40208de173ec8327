// Direct grouped convolution for few channels per group (Cg < 16), AVX-512:
// 16 output pixels per zmm, 4 output channels x 6 vectors of accumulators,
// mask-register epilogue. Algorithm and layouts: conv_grouped.inc.
#include <atomic>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// Plane rows are short (tens of floats): inline vector copies, not libc calls.
#pragma GCC optimize("no-tree-loop-distribute-patterns")
namespace resnext {
namespace {

#include "simd_avx512.inc"
#include "conv_grouped.inc"

}  // namespace

extern const ConvImpl kConvGroupedAvx512 = {"grouped_avx512",  60,          Isa::kAvx512, GroupedUnsupported,
                                            GroupedPackedSize, GroupedPack, GroupedRun};
}  // namespace resnext
#pragma GCC pop_options
