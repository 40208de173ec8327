// Winograd F(2x2, 3x3) convolution (dense 3x3, stride 1, K >= 16), AVX2 + FMA:
// 8 tiles per ymm, a 4 x 24 micro-kernel (4 output channels x 3 vectors of
// tiles, 12 accumulators), maskload/maskstore for partial vectors. Algorithm
// and layouts: conv_winograd.inc.
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
extern const ConvImpl kConvGemmAvx2;
namespace {

#include "vec_avx2.inc"

constexpr int MR = 4;
constexpr int NVMAX = 3;
constexpr int64_t TMAX = 96;      // tiles per task: four strips
constexpr int64_t TMAX_S2 = 128;  // stride 2 (conv_winograd_s2.inc)

// lo = a0 b0 a1 b1 a2 b2 a3 b3, hi = a4 b4 ... a7 b7.
inline void Zip(V a, V b, V* lo, V* hi) {
  const V l = _mm256_unpacklo_ps(a, b);  // a0 b0 a1 b1 | a4 b4 a5 b5
  const V h = _mm256_unpackhi_ps(a, b);  // a2 b2 a3 b3 | a6 b6 a7 b7
  *lo = _mm256_permute2f128_ps(l, h, 0x20);
  *hi = _mm256_permute2f128_ps(l, h, 0x31);
}

// E[t] = src[2t], O[t] = src[2t + 1] for t < n; reads src[0, 2n) only.
inline void SplitEvenOdd(const float* __restrict src, int64_t n, float* __restrict E, float* __restrict O) {
  int64_t t = 0;
  for (; t + 8 <= n; t += 8) {
    const V x = _mm256_loadu_ps(src + 2 * t), y = _mm256_loadu_ps(src + 2 * t + 8);
    // x0 x2 y0 y2 | x4 x6 y4 y6, then the 64-bit lanes reordered 0 2 1 3.
    const V e = _mm256_shuffle_ps(x, y, _MM_SHUFFLE(2, 0, 2, 0));
    const V o = _mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 1, 3, 1));
    _mm256_storeu_ps(E + t, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))));
    _mm256_storeu_ps(O + t, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0))));
  }
  for (; t < n; ++t) {
    E[t] = src[2 * t];
    O[t] = src[2 * t + 1];
  }
}

// Elements [off, off + 8) of the 16 floats lo:hi (off < 16; lanes past the
// end are garbage, masked off by the caller): through a stack buffer, AVX2
// has no two-source lane permute.
inline V Extract2(V lo, V hi, int off) {
  alignas(32) float buf[24];
  _mm256_store_ps(buf, lo);
  _mm256_store_ps(buf + 8, hi);
  return _mm256_loadu_ps(buf + off);
}

struct IsaRowSplitter {};
constexpr bool kHasRowSplitter = false;  // SplitPaddedGeneric: scalar edges, SplitEvenOdd in between

#include "conv_winograd.inc"
// SplitBy4 (conv_winograd_s2.inc) uses the generic two-level even/odd split.
constexpr bool kHasSplitBy4 = false;
inline void IsaSplitBy4(const float*, int64_t, int64_t, int64_t, float*, int64_t) {}
// Small stride-2 runs go to gemm (conv_winograd_s2.inc).
constexpr const ConvImpl* kWinoS2Fallback = &kConvGemmAvx2;
#include "conv_winograd_s2.inc"
}  // namespace

extern const ConvImpl kConvWinogradAvx2 = {"winograd_avx2",    32,           Isa::kAvx2,  WinogradUnsupported,
                                           WinogradPackedSize, WinogradPack, WinogradRun, /*transformed=*/true};
extern const ConvImpl kConvWinogradS2Avx2 = {
    "winograd_s2_avx2",
    31,
    Isa::kAvx2,
    WinogradS2Unsupported,
    WinogradS2PackedSize,
    WinogradS2Pack,
    WinogradS2Run,
    /*transformed=*/true,
    /*per_run=*/"runs of fewer than 192 tiles of 2x2 outputs (over the batch) use gemm_avx2's kernel"};
}  // namespace resnext
#pragma GCC pop_options
