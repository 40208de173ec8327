// Convolution as GEMM (dense convs; grouped with >= 16 channels per group),
// AVX-512: an 8 x 48 micro-kernel (24 zmm accumulators, 16 pixels per zmm) and
// for small images a transposed one (12 pixels x 32 channels or 24 x 16; for
// 1x1s 14 x 32), mask registers for the last pixels. Algorithm and layouts:
// conv_gemm.inc.
#include <atomic>
#include <cassert>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

#include "vec_avx512.inc"

constexpr int MR = 8;
constexpr int NVMAX = 3;
constexpr int NVT = 2;  // transposed micro-kernel: up to 2 vectors of channels x MPT pixels
constexpr int MPT = 12;
constexpr int MPT1 = 24;  // pixels with one vector of channels
constexpr int ACC2 = 28;  // accumulators of the two-row transposed kernel (7x7: 2 rows x 7 x 2 vectors)

// even[t] = src[2t] (t < n_even), odd[t] = src[2t + 1] (t < n_odd); n_even - n_odd in {0, 1}.
inline void Deinterleave2(const float* __restrict src, int64_t n_even, int64_t n_odd, float* __restrict even,
                          float* __restrict odd) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  int64_t t = 0;
  for (; t + 16 <= n_odd; t += 16) {
    const __m512 a = _mm512_loadu_ps(src + 2 * t), b = _mm512_loadu_ps(src + 2 * t + 16);
    _mm512_storeu_ps(even + t, _mm512_permutex2var_ps(a, ie, b));
    _mm512_storeu_ps(odd + t, _mm512_permutex2var_ps(a, io, b));
  }
  if (t < n_even) {  // at most 16 pairs left: masked loads never read past src[n_even + n_odd)
    const int m = static_cast<int>(n_even + n_odd - 2 * t);
    const __m512 a = _mm512_maskz_loadu_ps(Mask(m < 16 ? m : 16), src + 2 * t);
    const __m512 b = _mm512_maskz_loadu_ps(Mask(m > 16 ? m - 16 : 0), src + 2 * t + 16);
    _mm512_mask_storeu_ps(even + t, Mask(static_cast<int>(n_even - t)), _mm512_permutex2var_ps(a, ie, b));
    _mm512_mask_storeu_ps(odd + t, Mask(static_cast<int>(n_odd - t)), _mm512_permutex2var_ps(a, io, b));
  }
}

// dst[t] = src[2t] for t < n, reading no further than src[2n - 2].
inline void GatherEven(float* __restrict dst, const float* __restrict src, int64_t n) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  int64_t t = 0;
  for (; t + 16 < n; t += 16) {  // reads src[2t, 2t + 32): within 2n - 1
    _mm512_storeu_ps(dst + t,
                     _mm512_permutex2var_ps(_mm512_loadu_ps(src + 2 * t), ie, _mm512_loadu_ps(src + 2 * t + 16)));
  }
  if (t < n) {  // at most 16 left: masked loads of the 2(n - t) - 1 floats needed
    const int m = static_cast<int>(2 * (n - t) - 1);
    const __m512 a = _mm512_maskz_loadu_ps(Mask(m < 16 ? m : 16), src + 2 * t);
    const __m512 b = _mm512_maskz_loadu_ps(Mask(m > 16 ? m - 16 : 0), src + 2 * t + 16);
    _mm512_mask_storeu_ps(dst + t, Mask(static_cast<int>(n - t)), _mm512_permutex2var_ps(a, ie, b));
  }
}

// Lane i reads base[i * stride] (lanes < n; the rest are zero).
inline __m512i GatherIndex(int64_t stride) {
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32(static_cast<int>(stride)));
}
inline V VGatherN(const float* base, __m512i idx, int n) {
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), Mask(n), idx, base, 4);
}

// dst[16c, 16c + 16) = the next popcount(msk[c]) floats of src + off[c],
// expanded into the set lanes of msk[c], zero elsewhere.
constexpr bool kHasExpand = true;
inline void ExpandPlane(float* __restrict dst, const float* __restrict src, const int32_t* msk, const int32_t* off,
                        int64_t chunks) {
  for (int64_t c = 0; c < chunks; ++c) {
    _mm512_storeu_ps(dst + 16 * c, _mm512_maskz_expandloadu_ps(static_cast<__mmask16>(msk[c]), src + off[c]));
  }
}

constexpr bool kHasTranspose = true;
#include "transpose16_avx512.inc"

// dst[q] = src[idx[q]] for q < n, 16 per gather.
inline void GatherPlane(float* __restrict dst, const float* __restrict src, const int32_t* idx, int64_t n) {
  int64_t q = 0;
  for (; q + 16 <= n; q += 16) {
    _mm512_storeu_ps(dst + q, _mm512_i32gather_ps(_mm512_loadu_si512(idx + q), src, 4));
  }
  if (q < n) {
    const __mmask16 m = Mask(static_cast<int>(n - q));
    _mm512_mask_storeu_ps(dst + q, m,
                          _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, _mm512_loadu_si512(idx + q), src, 4));
  }
}

// One channel's strided slab planes from a table built once per chunk shape
// (kPermEntry int32 per `lanes` <= 16 slab floats): entry e holds two
// 16-float windows of the channel's input (offsets e[0], e[1], load masks
// e[2], e[3]), the valid-lane mask e[4] and lane indices into the two
// windows at e[8] (one vpermt2ps). The last entry stores `last_n` lanes.
constexpr bool kHasPermute = true;
constexpr int64_t kPermEntry = 24;
inline void PermutePlanes(float* __restrict dst, const float* __restrict src, const int32_t* __restrict tab,
                          int64_t chunks, int lanes, int last_n) {
  const __mmask16 store = Mask(lanes < 16 ? lanes : 16);
  for (int64_t q = 0; q < chunks; ++q, tab += kPermEntry) {
    const __mmask16 valid = static_cast<__mmask16>(tab[4]);
    const __m512i idx = _mm512_loadu_si512(tab + 8);
    const __m512 a = _mm512_maskz_loadu_ps(static_cast<__mmask16>(tab[2]), src + tab[0]);
    const __m512 b = _mm512_maskz_loadu_ps(static_cast<__mmask16>(tab[3]), src + tab[1]);
    const __m512 v = _mm512_maskz_permutex2var_ps(valid, a, idx, b);
    _mm512_mask_storeu_ps(dst + lanes * q, q + 1 < chunks ? store : Mask(last_n), v);
  }
}

#include "conv_gemm.inc"
}  // namespace

extern const ConvImpl kConvGemmAvx512 = {
    "gemm_avx512", 35,      Isa::kAvx512,          GemmUnsupported,     GemmPackedSize,
    GemmPack,      GemmRun, /*transformed=*/false, /*per_run=*/nullptr, /*residual_in_place=*/&GemmResidualInPlace};
}  // namespace resnext
#pragma GCC pop_options
