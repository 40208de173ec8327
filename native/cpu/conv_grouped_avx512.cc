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

constexpr int kL = 16;
constexpr int kAccRegs = 24;  // of 32 zmm: the rest hold inputs and a weight
using V = __m512;
inline V VSet1(float x) { return _mm512_set1_ps(x); }
inline V VLoadU(const float* p) { return _mm512_loadu_ps(p); }
inline V VFma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V VAdd(V a, V b) { return _mm512_add_ps(a, b); }
inline V VRelu(V a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }
inline __mmask16 VMask(int lo, int hi) {
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}
// Masked-off lanes are neither read nor written (no faults past the arrays).
inline V VLoadMasked(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline void VStoreMasked(float* p, V v, __mmask16 m) { _mm512_mask_storeu_ps(p, m, v); }

inline __mmask16 TailMask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

inline void ZeroFloats(float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_setzero_ps());
  if (i < n) _mm512_mask_storeu_ps(dst + i, TailMask(n - i), _mm512_setzero_ps());
}

// dst[i] = src[i] for i in [0, n); the tail with masked loads and stores.
inline void CopyRow(float* __restrict dst, const float* __restrict src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
  if (i < n) {
    const __mmask16 m = TailMask(n - i);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
  }
}

// dst[i] = src[2i] for i in [0, n): two loads and one two-source permute per
// 16 outputs; masked loads for the tail so nothing past src[2n-2] is read.
inline void GatherStride2(float* __restrict dst, const float* __restrict src, int64_t n) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // Reads src[2i .. 2i+30] plus src[2i+31], which exists unless this is the
    // last block; then the second load is masked.
    const V a = _mm512_loadu_ps(src + 2 * i);
    const V b = (i + 16 < n) ? _mm512_loadu_ps(src + 2 * i + 16) : _mm512_maskz_loadu_ps(0x7fff, src + 2 * i + 16);
    _mm512_storeu_ps(dst + i, _mm512_permutex2var_ps(a, even, b));
  }
  if (i < n) {
    const int64_t left = 2 * (n - i) - 1;  // elements src[2i .. 2n-2]
    const V a = _mm512_maskz_loadu_ps(TailMask(left < 16 ? left : 16), src + 2 * i);
    const V b = left > 16 ? _mm512_maskz_loadu_ps(TailMask(left - 16), src + 2 * i + 16) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(dst + i, TailMask(n - i), _mm512_permutex2var_ps(a, even, b));
  }
}

#include "conv_grouped.inc"

}  // namespace

extern const ConvImpl kConvGroupedAvx512 = {"grouped_avx512", 60, Isa::kAvx512, GroupedUnsupported, GroupedPackedSize,
                                           GroupedPack, GroupedRun};
}  // namespace resnext
#pragma GCC pop_options
