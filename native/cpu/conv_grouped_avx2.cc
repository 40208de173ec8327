// Direct grouped convolution for few channels per group (Cg < 16), AVX2+FMA:
// 8 output pixels per ymm, 4 output channels x 3 vectors of accumulators,
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

constexpr int kL = 8;
constexpr int kAccRegs = 12;  // of 16 ymm: the rest hold inputs and a weight
using V = __m256;
inline V VSet1(float x) { return _mm256_set1_ps(x); }
inline V VLoadU(const float* p) { return _mm256_loadu_ps(p); }
inline V VFma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V VAdd(V a, V b) { return _mm256_add_ps(a, b); }
inline V VRelu(V a) { return _mm256_max_ps(a, _mm256_setzero_ps()); }
inline __m256i VMask(int lo, int hi) {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_and_si256(_mm256_cmpgt_epi32(iota, _mm256_set1_epi32(lo - 1)),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), iota));
}
// vmaskmovps does not fault on masked-off lanes.
inline V VLoadMasked(const float* p, __m256i m) { return _mm256_maskload_ps(p, m); }
inline void VStoreMasked(float* p, V v, __m256i m) { _mm256_maskstore_ps(p, m, v); }

inline void ZeroFloats(float* dst, int64_t n) {
  if (n > 0) std::memset(dst, 0, static_cast<size_t>(n) * sizeof(float));
}
inline void CopyRow(float* __restrict dst, const float* __restrict src, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

// dst[i] = src[2i]: shuffle the even elements of two vectors, then fix the
// lane order across the 128-bit halves.
inline void GatherStride2(float* __restrict dst, const float* __restrict src, int64_t n) {
  int64_t i = 0;
  for (; i + 8 < n; i += 8) {
    const V a = _mm256_loadu_ps(src + 2 * i), b = _mm256_loadu_ps(src + 2 * i + 8);
    const V e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // a0 a2 b0 b2 | a4 a6 b4 b6
    _mm256_storeu_ps(dst + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))));
  }
  for (; i < n; ++i) dst[i] = src[2 * i];
}

#include "conv_grouped.inc"

}  // namespace

extern const ConvImpl kConvGroupedAvx2 = {"grouped_avx2", 50, Isa::kAvx2, GroupedUnsupported, GroupedPackedSize,
                                         GroupedPack, GroupedRun};
}  // namespace resnext
#pragma GCC pop_options
