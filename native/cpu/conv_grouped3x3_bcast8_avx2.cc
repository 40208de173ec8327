// Grouped 3x3 convolution, stride 1 or 2, padding 1, dilation 1, with exactly
// 8 output channels per group (ResNeXt-50 32x4d's 256@28 and 256@56 stride-2
// layers), AVX2+FMA: the 8 output channels in the lanes of a ymm, every input
// pixel broadcast from the NCHW input as it lies, so stride 2 needs no even/odd
// split of the input (which grouped3x3s2_avx2, 8 output pixels per ymm, pays
// first). Algorithm, tasks and layouts: conv_grouped3x3_bcast8.inc.
//
// Register block: one output row x NQ (1 to 12) pixels: 12 accumulators, the
// tap row's three weight vectors and one broadcast fill the 16 ymm. Per input
// channel and tap row the row's input columns are swept once, each broadcast
// into a register for the outputs that read it (three at stride 1, one or two
// at stride 2). Before the NCHW stores the block is transposed 8 x 8 in
// registers; a row's tail is stored under a vmaskmov mask.
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

constexpr int kMaxNQ = 12;  // output columns per block
constexpr int kRows = 1;    // output rows per block

#include "conv_grouped3x3_bcast8.inc"
#include "conv_grouped3x3_bcast8_sweep.inc"
#include "transpose8_avx.inc"

struct Broadcast {
  static __m256 Load(const float* x) { return _mm256_broadcast_ss(x); }
};

// Lane masks for vmaskmov: kMaskBits + 8 - n enables the first n lanes.
alignas(64) const int32_t kMaskBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// Stores NQ pixels x 8 channels (acc[j]: pixel j) as 8 rows of NQ floats,
// plane floats apart, adding the residual and applying ReLU.
template <int NQ>
__attribute__((always_inline)) inline void StoreRows(const __m256* acc, float* out, const float* res, int64_t plane,
                                                     bool relu) {
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    if (8 * h >= NQ) break;
    const int n = NQ - 8 * h < 8 ? NQ - 8 * h : 8;
    const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskBits + 8 - n));
    __m256 t[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) t[j] = 8 * h + j < NQ ? acc[8 * h + j] : _mm256_setzero_ps();
    Transpose8(t);
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      __m256 x = t[k];
      float* o = out + k * plane + 8 * h;
      if (res != nullptr) {
        const float* r = res + k * plane + 8 * h;
        x = _mm256_add_ps(x, n == 8 ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, m));
      }
      if (relu) x = _mm256_max_ps(_mm256_setzero_ps(), x);
      if (n == 8) {
        _mm256_storeu_ps(o, x);
      } else {
        _mm256_maskstore_ps(o, m, x);
      }
    }
  }
}

struct Kernel {
  // Output row oh (`two` is always false: one row per block), columns q0 to
  // q0 + NQ - 1 (see conv_grouped3x3_bcast8.inc).
  template <int S, int NQ, bool kLeft, bool kRight>
  static void Block(const Geo& g, int64_t Cg, const float* __restrict in, const float* __restrict w, const float* bias,
                    int64_t oh, bool /*two*/, int64_t q_first, float* out, const float* res, bool relu) {
    const int64_t q0 = kLeft ? 0 : q_first;
    __m256 acc[NQ];
    const __m256 b0 = bias != nullptr ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
#pragma GCC unroll 16
    for (int j = 0; j < NQ; ++j) acc[j] = b0;
    for (int64_t c = 0; c < Cg; ++c) {
      const float* chan = in + c * g.HW;
      const float* wc = w + c * 9 * kLanes;
#pragma GCC unroll 3
      for (int r = 0; r < 3; ++r) {
        const float* x = InputRow(g, chan, S * oh + r - 1, S * q0);
        RowSweep<S, NQ, kLeft, kRight, Broadcast>(acc, x, wc + r * 3 * kLanes);
      }
    }
    StoreRows<NQ>(acc, out + oh * g.Q + q0, res != nullptr ? res + oh * g.Q + q0 : nullptr, g.PQ, relu);
  }
};

}  // namespace

extern const ConvImpl kConvGrouped3x3Bcast8Avx2 = {"grouped3x3_bcast8_avx2",
                                                   71,
                                                   Isa::kAvx2,
                                                   Bcast8Unsupported,
                                                   Bcast8PackedSize,
                                                   Bcast8Pack,
                                                   Bcast8Run<Kernel>,
                                                   /*transformed=*/false,
                                                   /*per_run=*/nullptr,
                                                   /*residual_in_place=*/nullptr,
                                                   /*alternate=*/nullptr,
                                                   Bcast8SlowerAtStride1};
}  // namespace resnext
#pragma GCC pop_options
