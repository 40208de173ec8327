// Winograd F(2x2, 3x3) convolution (dense 3x3, stride 1, K >= 16), AVX-512: 16
// tiles per zmm, an 8 x 48 micro-kernel (8 output channels x 3 vectors of
// tiles, 24 accumulators), mask registers for partial vectors and row edges.
// Algorithm and layouts: conv_winograd.inc.
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
extern const ConvImpl kConvGemmAvx512;
namespace {

#include "vec_avx512.inc"

constexpr int MR = 8;
constexpr int NVMAX = 3;
constexpr int64_t TMAX = 96;      // tiles per task: two strips
constexpr int64_t TMAX_S2 = 128;  // stride 2 (conv_winograd_s2.inc): 196 tiles (28x28 out) in two chunks

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
    const V x = _mm512_maskz_loadu_ps(Mask(m < 16 ? m : 16), src + 2 * t);
    const V y = _mm512_maskz_loadu_ps(Mask(m > 16 ? m - 16 : 0), src + 2 * t + 16);
    _mm512_mask_storeu_ps(E + t, Mask(static_cast<int>(n - t)), _mm512_permutex2var_ps(x, ie, y));
    _mm512_mask_storeu_ps(O + t, Mask(static_cast<int>(n - t)), _mm512_permutex2var_ps(x, io, y));
  }
}

// Elements [off, off + 16) of the 32 floats lo:hi (off < 32; lanes past the
// end are garbage, masked off by the caller).
inline V Extract2(V lo, V hi, int off) {
  const __m512i idx =
      _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(off));
  return off < 16 ? _mm512_permutex2var_ps(lo, idx, hi) : _mm512_permutexvar_ps(idx, hi);
}

// E[t] = row[x0 + 2t], O[t] = row[x0 + 2t + 1] for t < n, zero where the
// column is outside [0, W): masked loads (masked-off lanes never fault) and
// one permute per output vector, no scalar edges.
inline void SplitPadded(const float* row, int64_t W, int64_t x0, int64_t n, float* __restrict E, float* __restrict O) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  // Lanes [lo, hi) of the 16 floats from column x are inside the row.
  auto in_row = [W](int64_t x) {
    const int64_t lo = x >= 0 ? 0 : (-x < 16 ? -x : 16);
    const int64_t hi = W - x < 16 ? (W - x > 0 ? W - x : 0) : 16;
    return hi > lo ? static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u)) : static_cast<__mmask16>(0);
  };
  for (int64_t t = 0; t < n; t += 16) {
    const int64_t x = x0 + 2 * t;
    const V a = _mm512_maskz_loadu_ps(in_row(x), row + x);
    const V b = _mm512_maskz_loadu_ps(in_row(x + 16), row + x + 16);
    const __mmask16 m = Mask(n - t < 16 ? static_cast<int>(n - t) : 16);
    _mm512_mask_storeu_ps(E + t, m, _mm512_permutex2var_ps(a, ie, b));
    _mm512_mask_storeu_ps(O + t, m, _mm512_permutex2var_ps(a, io, b));
  }
}

// Splits padded input rows into the four column phases of the phase planes
// (conv_winograd.inc): e[x * pplane + j] = padded[2j + x], j < n. Rows of at
// most 15 tiles (outputs up to 30 wide) take one masked load pair and four
// permutes, the masks computed once; longer rows two SplitPadded passes.
constexpr bool kHasRowSplitter = true;
struct IsaRowSplitter {
  int64_t W, x0, n;
  bool short_row;
  __mmask16 ma, mb, mn;
  void Init(int64_t w, int64_t x, int64_t count) {
    W = w;
    x0 = x;
    n = count;
    short_row = n <= 15;
    auto in_row = [w](int64_t c) {
      const int64_t lo = c >= 0 ? 0 : (-c < 16 ? -c : 16);
      const int64_t hi = w - c < 16 ? (w - c > 0 ? w - c : 0) : 16;
      return hi > lo ? static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u)) : static_cast<__mmask16>(0);
    };
    ma = in_row(x);
    mb = in_row(x + 16);
    mn = Mask(static_cast<int>(n < 16 ? n : 16));
  }
  void Split(const float* row, float* e, int64_t pplane) const {
    if (!short_row) {
      SplitPadded(row, W, x0, n, e, e + pplane);
      SplitPadded(row, W, x0 + 2, n, e + 2 * pplane, e + 3 * pplane);
      return;
    }
    const __m512i i0 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i one = _mm512_set1_epi32(1);
    const V a = _mm512_maskz_loadu_ps(ma, row + x0);
    const V b = _mm512_maskz_loadu_ps(mb, row + x0 + 16);
    __m512i idx = i0;
    for (int x = 0; x < 4; ++x) {  // index 2j + x <= 31 for j < 15
      _mm512_mask_storeu_ps(e + x * pplane, mn, _mm512_permutex2var_ps(a, idx, b));
      idx = _mm512_add_epi32(idx, one);
    }
  }
};

#include "conv_winograd.inc"
// e[x * pplane + j] = padded[4j + x] for j <= tw, x < 4, and for j < tw, x = 4
// (conv_winograd_s2.inc's SplitBy4; padded column q is input column x0 + q):
// per 16 j, four masked loads of 16 columns (the image edges and padding read
// as zeros) and two permutes and a blend per phase, instead of the generic
// split's three passes with scalar edges.
constexpr bool kHasSplitBy4 = true;
inline void IsaSplitBy4(const float* row, int64_t W, int64_t x0, int64_t tw, float* e, int64_t pplane) {
  auto in_row = [W](int64_t x) {
    const int64_t lo = x >= 0 ? 0 : (-x < 16 ? -x : 16);
    const int64_t hi = W - x < 16 ? (W - x > 0 ? W - x : 0) : 16;
    return hi > lo ? static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u)) : static_cast<__mmask16>(0);
  };
  // Lane t < 8: column 4t of the first 32, lane t >= 8: column 4(t - 8) of the next 32.
  const __m512i idx0 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
  for (int64_t j0 = 0; j0 <= tw; j0 += 16) {
    const int64_t x = x0 + 4 * j0;
    const V v0 = _mm512_maskz_loadu_ps(in_row(x), row + x), v1 = _mm512_maskz_loadu_ps(in_row(x + 16), row + x + 16);
    const V v2 = _mm512_maskz_loadu_ps(in_row(x + 32), row + x + 32);
    const V v3 = _mm512_maskz_loadu_ps(in_row(x + 48), row + x + 48);
    const __mmask16 m = Mask(static_cast<int>(tw + 1 - j0 < 16 ? tw + 1 - j0 : 16));
    __m512i idx = idx0;
    for (int ph = 0; ph < 4; ++ph) {
      const V lo = _mm512_permutex2var_ps(v0, idx, v1), hi = _mm512_permutex2var_ps(v2, idx, v3);
      _mm512_mask_storeu_ps(e + ph * pplane + j0, m, _mm512_mask_blend_ps(0xFF00, lo, hi));
      idx = _mm512_add_epi32(idx, _mm512_set1_epi32(1));
    }
  }
  float* e4 = e + 4 * pplane;
  for (int64_t j = 0; j < tw; j += 16) {
    const __mmask16 m = Mask(static_cast<int>(tw - j < 16 ? tw - j : 16));
    _mm512_mask_storeu_ps(e4 + j, m, _mm512_maskz_loadu_ps(m, e + j + 1));
  }
}
// Small stride-2 runs go to gemm (conv_winograd_s2.inc).
constexpr const ConvImpl* kWinoS2Fallback = &kConvGemmAvx512;
#include "conv_winograd_s2.inc"

// Dense convs whose packed F(2x2) weights pass 1 MiB are timed inside a
// network against winograd22_otf_avx512, the same F(2x2) on the raw 3x3
// weights (9/16 of the bytes, transformed per run, the next channel block's
// taps prefetched under the multiplies): inside a whole forward at batch 1
// the weights come from memory. In place of the direct plan (gemm_avx512),
// which does 27.6 multiplies per (input, output channel) at 7x7 against
// F(2x2)'s 16 (ResNet-50's layer4, docs/network-profile.md section 19).
const char* WinogradAlternate(const ConvParams& p) {
  if (p.G != 1 || WinogradPackedSize(p) * int64_t{sizeof(float)} <= (int64_t{1} << 20)) return nullptr;
  return "winograd22_otf_avx512";
}

}  // namespace

extern const ConvImpl kConvWinogradAvx512 = {"winograd_avx512",
                                             37,
                                             Isa::kAvx512,
                                             WinogradUnsupported,
                                             WinogradPackedSize,
                                             WinogradPack,
                                             WinogradRun,
                                             /*transformed=*/true,
                                             /*per_run=*/nullptr,
                                             /*residual_in_place=*/nullptr,
                                             WinogradAlternate};
extern const ConvImpl kConvWinogradS2Avx512 = {
    "winograd_s2_avx512",
    36,
    Isa::kAvx512,
    WinogradS2Unsupported,
    WinogradS2PackedSize,
    WinogradS2Pack,
    WinogradS2Run,
    /*transformed=*/true,
    /*per_run=*/"runs of fewer than 192 tiles of 2x2 outputs (over the batch) use gemm_avx512's kernel"};
}  // namespace resnext
#pragma GCC pop_options
