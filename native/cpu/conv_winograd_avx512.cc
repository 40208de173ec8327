// Winograd F(2x2, 3x3) convolution (3x3 stride 1; dense, or grouped with >= 16
// channels per group), AVX-512: 16 tiles per zmm, an 8 x 48 micro-kernel (8
// output channels x 3 vectors of tiles, 24 accumulators), mask registers for
// partial vectors. Algorithm and layouts: conv_winograd.inc.
#include <atomic>
#include <cstdint>
#include <utility>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

constexpr int VL = 16;
constexpr int MR = 8;
constexpr int NVMAX = 3;
constexpr int64_t TMAX = 48;  // tiles per task: one strip
using V = __m512;
inline __mmask16 WMask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
inline V VZero() { return _mm512_setzero_ps(); }
inline V VLoad(const float* p) { return _mm512_loadu_ps(p); }
inline V VLoadN(const float* p, int n) { return _mm512_maskz_loadu_ps(WMask(n), p); }
inline void VStore(float* p, V v) { _mm512_storeu_ps(p, v); }
inline void VStoreN(float* p, V v, int n) { _mm512_mask_storeu_ps(p, WMask(n), v); }
inline V VBcast(const float* p) { return _mm512_set1_ps(*p); }
inline V VSet1(float x) { return _mm512_set1_ps(x); }
inline V VFma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V VAdd(V a, V b) { return _mm512_add_ps(a, b); }
inline V VSub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V VRelu(V a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }

// lo = a0 b0 a1 b1 ... a7 b7, hi = a8 b8 ... a15 b15.
inline void Zip(V a, V b, V* lo, V* hi) {
  const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ih = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  *lo = _mm512_permutex2var_ps(a, il, b);
  *hi = _mm512_permutex2var_ps(a, ih, b);
}

// E[t] = src[2t], O[t] = src[2t + 1] for t < n; reads src[0, 2n) only.
inline void SplitEvenOdd(const float* __restrict src, int64_t n, float* __restrict E, float* __restrict O) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  int64_t t = 0;
  for (; t + 16 <= n; t += 16) {
    const V x = _mm512_loadu_ps(src + 2 * t), y = _mm512_loadu_ps(src + 2 * t + 16);
    _mm512_storeu_ps(E + t, _mm512_permutex2var_ps(x, ie, y));
    _mm512_storeu_ps(O + t, _mm512_permutex2var_ps(x, io, y));
  }
  if (t < n) {
    const int m = static_cast<int>(2 * (n - t));  // floats left, < 32
    const V x = _mm512_maskz_loadu_ps(WMask(m < 16 ? m : 16), src + 2 * t);
    const V y = _mm512_maskz_loadu_ps(WMask(m > 16 ? m - 16 : 0), src + 2 * t + 16);
    _mm512_mask_storeu_ps(E + t, WMask(static_cast<int>(n - t)), _mm512_permutex2var_ps(x, ie, y));
    _mm512_mask_storeu_ps(O + t, WMask(static_cast<int>(n - t)), _mm512_permutex2var_ps(x, io, y));
  }
}

#include "conv_winograd.inc"
}  // namespace

extern const ConvImpl kConvWinogradAvx512 = {"winograd_avx512", 37,           Isa::kAvx512,      WinogradUnsupported,
                                             WinogradPackedSize, WinogradPack, WinogradRun};
}  // namespace resnext
#pragma GCC pop_options
