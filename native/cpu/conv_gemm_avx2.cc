// Convolution as GEMM (dense convs; grouped with >= 16 channels per group),
// AVX2 + FMA: a 4 x 24 micro-kernel (12 ymm accumulators, 8 pixels per ymm) and
// for small images a transposed one (6 pixels x 16 channels or 12 x 8),
// maskload/maskstore for the last pixels. Algorithm and layouts: conv_gemm.inc.
#include <atomic>
#include <cassert>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

#include "vec_avx2.inc"

constexpr int MR = 4;
constexpr int NVMAX = 3;
constexpr int NVT = 2;  // transposed micro-kernel: up to 2 vectors of channels x MPT pixels
constexpr int MPT = 6;
constexpr int MPT1 = 12;  // pixels with one vector of channels
constexpr int ACC2 = 12;  // accumulators of the two-row transposed kernel

// even[t] = src[2t] (t < n_even), odd[t] = src[2t + 1] (t < n_odd); n_even - n_odd in {0, 1}.
inline void Deinterleave2(const float* __restrict src, int64_t n_even, int64_t n_odd, float* __restrict even,
                          float* __restrict odd) {
  int64_t t = 0;
  for (; t < n_odd; ++t) {
    even[t] = src[2 * t];
    odd[t] = src[2 * t + 1];
  }
  for (; t < n_even; ++t) even[t] = src[2 * t];
}

// dst[t] = src[2t] for t < n.
inline void GatherEven(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t t = 0; t < n; ++t) dst[t] = src[2 * t];
}

// Lane i reads base[i * stride] (lanes < n; the rest are zero).
inline __m256i GatherIndex(int64_t stride) {
  return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(stride)));
}
inline V VGatherN(const float* base, __m256i idx, int n) {
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, idx, _mm256_castsi256_ps(Mask(n)), 4);
}

#include "conv_gemm_no_avx512.inc"
#include "conv_gemm.inc"
}  // namespace

extern const ConvImpl kConvGemmAvx2 = {"gemm_avx2",
                                       30,
                                       Isa::kAvx2,
                                       GemmUnsupported,
                                       GemmPackedSize,
                                       GemmPack,
                                       GemmRun,
                                       /*transformed=*/false,
                                       /*per_run=*/nullptr,
                                       /*residual_in_place=*/&GemmResidualInPlace};
}  // namespace resnext
#pragma GCC pop_options
