// Grouped 3x3 convolution, stride 1 or 2, padding 1, dilation 1, with exactly
// 8 output channels per group: ResNeXt-50 32x4d's 256@28 (stride 1) and
// 256@56 stride-2 layers (8 channels per group, 28x28 outputs). AVX-512VL on
// 256-bit vectors.
//
// Why: on a CPU whose 512-bit FMAs take both of its 256-bit FMA pipes (AMD Zen
// 4), a 256-bit FMA does half the work at twice the rate, so 8 channels fill a
// vector at the full FMA peak. With the output channels in the lanes each input
// pixel is broadcast straight from the NCHW input, so stride 2 needs no
// even/odd split of the input (a third of grouped3x3s2_avx512's time, which
// keeps 16 output pixels in the lanes), stride 1 no column shifts, and the
// padding taps are left out at compile time. Where 512-bit FMAs run at full
// width (Intel, Zen 5) the 16-pixel kernels do twice the work per FMA: there
// the plan passes over this one (Bcast8SlowerHere).
//
// Register block: two output rows x NQ (1 to 14) pixels, 8 output channels
// each: 28 accumulators at 14 wide. Per input channel and tap row, the three
// weight vectors stay in registers and the row's input columns are swept once:
// at stride 1 each column is broadcast into a register for the three outputs
// that read it; at stride 2 the odd columns (two readers) so, the even ones
// (one reader) inside the FMA. Rows wider than 14 are split into blocks of
// equal width. Before the NCHW stores each row's block is transposed 8 x 8 in
// registers (bias went into the accumulators; residual and ReLU are applied on
// the transposed rows). Every output sums its taps in the reference's order.
//
// Algorithm, tasks and layouts: conv_grouped3x3_bcast8.inc.
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"
#include "resnext/cpu_features.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
namespace resnext {
namespace {

constexpr int kMaxNQ = 14;  // output columns per block
constexpr int kRows = 2;    // output rows per block

#include "conv_grouped3x3_bcast8.inc"

// Where 512-bit FMAs run at full width, grouped3x3s{1,2}_avx512 do twice the
// work per FMA; there this kernel could reach only half of their peak.
const char* Bcast8SlowerHere(const ConvParams&) {
  return GetCpuFeatures().avx512_double_pumped
             ? nullptr
             : "512-bit FMAs run at full width on this CPU, where grouped3x3s1/s2_avx512's 16-pixel vectors do twice "
               "the work per FMA";
}

#include "transpose8_avx.inc"

inline __m256 Fma8(__m256 acc, __m256 w, const float* x) {
  asm("vfmadd231ps %[x]%{1to8%}, %[w], %[acc]" : [acc] "+v"(acc) : [w] "v"(w), [x] "m"(*x));
  return acc;
}

// Stores NQ pixels x 8 channels (acc[j]: pixel j) as 8 rows of NQ floats,
// plane floats apart, adding the residual and applying ReLU.
template <int NQ>
__attribute__((always_inline)) inline void StoreRows(const __m256* acc, float* out, const float* res, int64_t plane,
                                                     bool relu) {
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    if (8 * h >= NQ) break;
    const int n = NQ - 8 * h < 8 ? NQ - 8 * h : 8;
    const __mmask8 m = static_cast<__mmask8>((1u << n) - 1u);
    __m256 t[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) t[j] = 8 * h + j < NQ ? acc[8 * h + j] : _mm256_setzero_ps();
    Transpose8(t);
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      __m256 x = t[k];
      if (res != nullptr) x = _mm256_add_ps(x, _mm256_maskz_loadu_ps(m, res + k * plane + 8 * h));
      if (relu) x = _mm256_max_ps(_mm256_setzero_ps(), x);
      _mm256_mask_storeu_ps(out + k * plane + 8 * h, m, x);
    }
  }
}

// A register broadcast the compiler cannot fold into the FMAs (with
// AVX-512VL it would give each FMA its own memory broadcast: one load per FMA
// instead of one per column; 0.93-1.0x at stride 1).
struct Bcast {
  static __m256 Load(const float* x) {
    __m256 b;
    asm("vbroadcastss %[x], %[b]" : [b] "=v"(b) : [x] "m"(*x));
    return b;
  }
};

#include "conv_grouped3x3_bcast8_sweep.inc"

// Output rows oh and oh + 1 (the second only when it exists, `two`), columns
// q0 to q0 + NQ - 1, of the group's 8 output channels at `out` (plane stride
// PQ), over its Cg input channels `in` with weights w ([Cg][9][8]). kLeft:
// the first output column's left tap is the padding (q0 = 0); kRight: the last
// one's right tap is.
struct Kernel {
  template <int S, int NQ, bool kLeft, bool kRight>
  static void Block(const Geo& g, int64_t Cg, const float* __restrict in, const float* __restrict w, const float* bias,
                    int64_t oh, bool two, int64_t q_first, float* out, const float* res, bool relu);
};

template <int S, int NQ, bool kLeft, bool kRight>
void Kernel::Block(const Geo& g, int64_t Cg, const float* __restrict in, const float* __restrict w, const float* bias,
                   int64_t oh, bool two, int64_t q_first, float* out, const float* res, bool relu) {
  const int64_t q0 = kLeft ? 0 : q_first;
  __m256 acc[2][NQ];
  const __m256 b0 = bias != nullptr ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
#pragma GCC unroll 16
  for (int j = 0; j < NQ; ++j) acc[0][j] = acc[1][j] = b0;
  for (int64_t c = 0; c < Cg; ++c) {
    const float* chan = in + c * g.HW;
    const float* wc = w + c * 9 * kLanes;
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
      const float* x0 = InputRow(g, chan, S * oh + r - 1, S * q0);
      const float* x1 = InputRow(g, chan, S * (oh + 1) + r - 1, S * q0);
      if constexpr (S == 1) {
        RowSweep<1, NQ, kLeft, kRight, Bcast>(acc[0], x0, wc + r * 3 * kLanes);
        RowSweep<1, NQ, kLeft, kRight, Bcast>(acc[1], x1, wc + r * 3 * kLanes);
      } else {
        // Stride 2: output j reads columns 2j - 1, 2j and 2j + 1 (ci = 2j,
        // 2j + 1, 2j + 2), so an odd column feeds two outputs (tap 2 of one,
        // tap 0 of the next) and is broadcast once into a register, and an
        // even one feeds one output (tap 1) through the FMA's memory operand:
        // two loads and four instructions per three FMAs, each output's taps
        // in order. 256@56/s2, 1 thread: 1.07x broadcasting every column in
        // the FMA (three loads), 1.14x every column into a register (five
        // instructions).
        const __m256 w0 = _mm256_loadu_ps(wc + r * 3 * kLanes), w1 = _mm256_loadu_ps(wc + (r * 3 + 1) * kLanes),
                     w2 = _mm256_loadu_ps(wc + (r * 3 + 2) * kLanes);
        constexpr int kCols = 2 * NQ + 1;  // columns -1 .. 2 NQ - 1
#pragma GCC unroll 32
        for (int ci = 0; ci < kCols; ++ci) {
          if (ci == 0 && kLeft) continue;
          if (ci == kCols - 1 && kRight) continue;
          if (ci % 2 == 1) {
            const int j = (ci - 1) / 2;
            acc[0][j] = Fma8(acc[0][j], w1, x0 + ci - 1);
            acc[1][j] = Fma8(acc[1][j], w1, x1 + ci - 1);
          } else {
            const int j = ci / 2;
#pragma GCC unroll 2
            for (int i = 0; i < 2; ++i) {
              const __m256 b = Bcast::Load((i == 0 ? x0 : x1) + ci - 1);
              if (j >= 1) acc[i][j - 1] = _mm256_fmadd_ps(w2, b, acc[i][j - 1]);
              if (j < NQ) acc[i][j] = _mm256_fmadd_ps(w0, b, acc[i][j]);
            }
          }
        }
      }
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    if (i == 1 && !two) break;
    const int64_t off = (oh + i) * g.Q + q0;
    StoreRows<NQ>(acc[i], out + off, res != nullptr ? res + off : nullptr, g.PQ, relu);
  }
}

}  // namespace

extern const ConvImpl kConvGrouped3x3Bcast8Avx512 = {"grouped3x3_bcast8_avx512",
                                                     81,
                                                     Isa::kAvx512,
                                                     Bcast8Unsupported,
                                                     Bcast8PackedSize,
                                                     Bcast8Pack,
                                                     Bcast8Run<Kernel>,
                                                     /*transformed=*/false,
                                                     /*per_run=*/nullptr,
                                                     /*residual_in_place=*/nullptr,
                                                     /*alternate=*/nullptr,
                                                     Bcast8SlowerHere};
}  // namespace resnext
#pragma GCC pop_options
