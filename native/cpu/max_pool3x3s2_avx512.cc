// Max pooling 3x3, stride 2, padding 1 (the stem's pool) over one NCHW plane,
// AVX-512. Per output row: the up-to-3 input rows of the window are reduced
// column-wise into a scratch row (16 columns per zmm), stored one to the
// right of a -inf column so the left padding is a real element that never
// wins; then 16 outputs at a time take the maximum of the scratch row's even,
// odd and next-even columns, deinterleaved from two zmm with a two-source
// permute (no strided loads, no phase copies). NaN propagates (torch
// semantics): each maximum keeps its first operand where that is NaN.
// Called by max_pool2d.cc when the ISA cap allows AVX-512; also in a variant
// that writes the blocked layout NCHW16c (MaxPool3x3s2ToBlocked16Avx512).
#include <cstdint>
#include <limits>

#include <immintrin.h>

#include "resnext/max_pool2d.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// GCC 12 warns that some AVX-512 intrinsics (masked moves, permutes) read an
// uninitialized vector: their inline bodies start from _mm512_undefined_ps(),
// which is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace resnext {

namespace {

// max(a, b), NaN if either is: VMAXPS returns b when either is NaN, so lanes where a is NaN take a.
inline __m512 MaxNan(__m512 a, __m512 b) {
  return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

inline __mmask16 Lanes(int64_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1u); }

// col[1 + w] = the maximum of the window's nrows (1 at H = 1, 2 at an edge, else 3) input rows from r0.
inline void ReduceRows(const float* r0, int64_t W, int64_t nrows, float* col) {
  for (int64_t w = 0; w < W; w += 16) {
    const __mmask16 m = Lanes(W - w);
    // The next output row's two new input rows (L3 -> L1 while this row pools; past the plane: the next plane).
    _mm_prefetch(reinterpret_cast<const char*>(r0 + 3 * W + w), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(r0 + 4 * W + w), _MM_HINT_T0);
    __m512 v = _mm512_maskz_loadu_ps(m, r0 + w);
    if (nrows >= 2) v = MaxNan(v, _mm512_maskz_loadu_ps(m, r0 + W + w));
    if (nrows == 3) v = MaxNan(v, _mm512_maskz_loadu_ps(m, r0 + 2 * W + w));
    _mm512_mask_storeu_ps(col + 1 + w, m, v);
  }
}

// 16 outputs from a reduced row: output q reads c[2q], c[2q + 1], c[2q + 2] (c = col + 2 * q0), the even,
// odd and next-even columns deinterleaved from two zmm by two-source permutes.
inline __m512 Pool16(const float* c) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 a = _mm512_loadu_ps(c), b = _mm512_loadu_ps(c + 16);
  const __m512 a2 = _mm512_loadu_ps(c + 2), b2 = _mm512_loadu_ps(c + 18);
  const __m512 v = MaxNan(_mm512_permutex2var_ps(a, even, b), _mm512_permutex2var_ps(a, odd, b));
  return MaxNan(v, _mm512_permutex2var_ps(a2, even, b2));
}

}  // namespace

// Floats of scratch MaxPool3x3s2PlaneAvx512 needs for a plane of width W.
int64_t MaxPool3x3s2ScratchFloats(int64_t W) {
  const int64_t Q = (W - 1) / 2 + 1;
  return 32 * ((Q + 15) / 16) + 48;
}

namespace {

// Output rows [p0, p1) of one plane; row oh goes to y + (oh - p0) * ldy.
void PoolRows(const MaxPool2dParams& p, const float* x, float* y, int64_t ldy, int64_t p0, int64_t p1, float* scratch) {
  const int64_t H = p.H, W = p.W, Q = p.Q();
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  // col[0] is the left padding; col[1 + w] the column maxima; -inf past the row.
  float* col = scratch;
  const int64_t col_len = MaxPool3x3s2ScratchFloats(W);
  for (int64_t i = 0; i < col_len; i += 16) _mm512_storeu_ps(col + i, ninf);
  for (int64_t oh = p0; oh < p1; ++oh) {
    const int64_t h0 = 2 * oh - 1;
    const int64_t hb = h0 < 0 ? 0 : h0, he = h0 + 3 < H ? h0 + 3 : H;
    ReduceRows(x + hb * W, W, he - hb, col);
    float* yr = y + (oh - p0) * ldy;
    for (int64_t q = 0; q < Q; q += 16) {
      _mm512_mask_storeu_ps(yr + q, Lanes(Q - q), Pool16(col + 2 * q));
    }
  }
}

}  // namespace

void MaxPool3x3s2PlaneAvx512(const MaxPool2dParams& p, const float* x, float* y, float* scratch) {
  PoolRows(p, x, y, p.Q(), 0, p.P(), scratch);
}

namespace {

// Rows i and i + s of a 16 x 16 block swap their off-diagonal s x s sub-blocks (one butterfly stage of a
// transpose): after the stages s = 8, 4, 2, 1 row j holds what column j held.
template <int S>
inline void TransposeStage(__m512 (&r)[16]) {
  alignas(64) int32_t lo[16], hi[16];
  for (int k = 0; k < 16; ++k) {
    lo[k] = (k & S) ? 16 + k - S : k;
    hi[k] = (k & S) ? 16 + k : k + S;
  }
  const __m512i ilo = _mm512_load_si512(lo), ihi = _mm512_load_si512(hi);
  for (int i = 0; i < 16; ++i) {
    if (i & S) continue;
    const __m512 a = r[i], b = r[i + S];
    r[i] = _mm512_permutex2var_ps(a, ilo, b);
    r[i + S] = _mm512_permutex2var_ps(a, ihi, b);
  }
}

}  // namespace

int64_t MaxPool3x3s2ToBlocked16ScratchFloats(int64_t W) { return 16 * MaxPool3x3s2ScratchFloats(W); }

// The same pool from `lanes` (<= 16) NCHW planes (x: the first plane) into one channel block of the
// NCHW16c output (y: the block, [P][Q][16]), output rows [p0, p1); lanes past `lanes` are written zero.
// Per output row: each plane's window rows reduced into its own scratch row, then per 16 output
// columns the 16 planes' maxima (16 zmm, one plane each) transposed in registers (four butterfly
// stages of two-source permutes) into 16 zmm of one pixel's 16 channels each, stored contiguously.
void MaxPool3x3s2ToBlocked16Avx512(const MaxPool2dParams& p, const float* x, int64_t lanes, float* y, int64_t p0,
                                   int64_t p1, float* scratch) {
  const int64_t H = p.H, W = p.W, Q = p.Q(), plane = H * W;
  const int64_t col_len = MaxPool3x3s2ScratchFloats(W);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t i = 0; i < lanes * col_len; i += 16) _mm512_storeu_ps(scratch + i, ninf);
  for (int64_t oh = p0; oh < p1; ++oh) {
    const int64_t h0 = 2 * oh - 1;
    const int64_t hb = h0 < 0 ? 0 : h0, he = h0 + 3 < H ? h0 + 3 : H;
    for (int64_t j = 0; j < lanes; ++j) ReduceRows(x + j * plane + hb * W, W, he - hb, scratch + j * col_len);
    float* yr = y + oh * Q * 16;
    for (int64_t q = 0; q < Q; q += 16) {
      __m512 r[16];
      for (int64_t j = 0; j < 16; ++j) {
        if (j >= lanes) {
          r[j] = _mm512_setzero_ps();
          continue;
        }
        r[j] = Pool16(scratch + j * col_len + 2 * q);
      }
      TransposeStage<8>(r);
      TransposeStage<4>(r);
      TransposeStage<2>(r);
      TransposeStage<1>(r);
      const int64_t n = Q - q < 16 ? Q - q : 16;
      for (int64_t i = 0; i < n; ++i) _mm512_storeu_ps(yr + (q + i) * 16, r[i]);
    }
  }
}

}  // namespace resnext
#pragma GCC pop_options
