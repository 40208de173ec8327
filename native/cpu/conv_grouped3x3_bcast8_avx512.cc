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
// Layouts:
//   packed: [G][Cg][9 taps][8 output channels].
//   tasks:  (image, group, run of row pairs), as grouped3x3s2_bcast_avx512.
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"
#include "resnext/cpu_features.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
namespace resnext {
namespace {

#include "conv_s2_common_avx512.inc"

constexpr int kLanes = 8;   // output channels per group = lanes
constexpr int kMaxNQ = 14;  // output columns per register block

const char* Bcast8Unsupported(const ConvParams& p) {
  if (p.G < 2) return "needs groups > 1 (dense convolutions use the GEMM and Winograd kernels)";
  if (p.Kg() != kLanes) return "needs exactly 8 output channels per group (one 256-bit vector of them)";
  if (p.R != 3 || p.S != 3) return "needs a 3x3 kernel";
  if (p.stride_h != p.stride_w || (p.stride_h != 1 && p.stride_h != 2)) return "needs stride 1 or 2";
  if (p.dil_h != 1 || p.dil_w != 1) return "needs dilation 1";
  if (p.pad_top != 1 || p.pad_left != 1 || p.pad_bottom != 1 || p.pad_right != 1) {
    return "needs padding 1 on every side";
  }
  return nullptr;
}

// Where 512-bit FMAs run at full width, grouped3x3s{1,2}_avx512 do twice the
// work per FMA; there this kernel could reach only half of their peak.
const char* Bcast8SlowerHere(const ConvParams&) {
  return GetCpuFeatures().avx512_double_pumped
             ? nullptr
             : "512-bit FMAs run at full width on this CPU, where grouped3x3s1/s2_avx512's 16-pixel vectors do twice "
               "the work per FMA";
}

// Zeros read for input rows outside the image: a block reads input columns
// -1 to 2 NQ - 1 of its own.
alignas(64) const float kZeroRow[2 * kMaxNQ + 4] = {};

struct Geo : S2Geo {
  int64_t stride;
};

// Input row ih from column c0 on (x[-1] is column c0 - 1), or zeros outside
// the image.
inline const float* InputRow(const Geo& g, const float* chan, int64_t ih, int64_t c0) {
  return ih < 0 || ih >= g.H ? kZeroRow + 1 : chan + ih * g.W + c0;
}

inline __m256 Fma8(__m256 acc, __m256 w, const float* x) {
  asm("vfmadd231ps %[x]%{1to8%}, %[w], %[acc]" : [acc] "+v"(acc) : [w] "v"(w), [x] "m"(*x));
  return acc;
}

// r[j] (8 channels of pixel j) -> r[k] (8 pixels of channel k).
__attribute__((always_inline)) inline void Transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
    r[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
  }
}

// Stores NQ pixels x 8 channels (acc[j]: pixel j) as 8 rows of NQ floats,
// plane floats apart, adding the residual and applying ReLU.
template <int NQ>
__attribute__((always_inline)) inline void StoreRows(const __m256* acc, float* out, const float* res, int64_t plane,
                                                     bool relu) {
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    if (8 * h >= NQ) break;
    constexpr int kAll = NQ;
    const int n = kAll - 8 * h < 8 ? kAll - 8 * h : 8;
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

inline __m256 Bcast(const float* x) {
  __m256 b;
  asm("vbroadcastss %[x], %[b]" : [b] "=v"(b) : [x] "m"(*x));
  return b;
}

// Stride 1: adds the taps of input row x (x[-1]: the block's first column's
// left tap) to one output row's NQ accumulators through weight row wr
// ([3][8]). Each input column is broadcast once into a register and feeds the
// up to three outputs that read it (output j reads columns j - 1 .. j + 1),
// one load per three FMAs; broadcasting inside each FMA instead (as stride 2
// does) measured 0.93-1.0x of this at 256@28, 8 channels per group.
template <int NQ, bool kLeft, bool kRight>
__attribute__((always_inline)) inline void RowTapsS1(__m256* acc, const float* x, const float* wr) {
  const __m256 w0 = _mm256_loadu_ps(wr), w1 = _mm256_loadu_ps(wr + kLanes), w2 = _mm256_loadu_ps(wr + 2 * kLanes);
  constexpr int kCols = NQ + 2;  // columns -1 .. NQ
#pragma GCC unroll 16
  for (int ci = 0; ci < kCols; ++ci) {
    if (ci == 0 && kLeft) continue;
    if (ci == kCols - 1 && kRight) continue;
    const __m256 b = Bcast(x + ci - 1);
    // Output j takes column ci as tap s = ci - j: each output's taps in
    // order s = 0, 1, 2, as the reference sums them.
#pragma GCC unroll 3
    for (int s = 2; s >= 0; --s) {
      const int j = ci - s;
      if (j < 0 || j >= NQ) continue;
      acc[j] = _mm256_fmadd_ps(s == 0 ? w0 : s == 1 ? w1 : w2, b, acc[j]);
    }
  }
}

// Output rows oh and oh + 1 (the second only when it exists, `two`), columns
// q0 to q0 + NQ - 1, of the group's 8 output channels at `out` (plane stride
// PQ), over its Cg input channels `in` with weights w ([Cg][9][8]). kLeft:
// the first output column's left tap is the padding (q0 = 0); kRight: the last
// one's right tap is.
template <int S, int NQ, bool kLeft, bool kRight>
void Block(const Geo& g, int64_t Cg, const float* __restrict in, const float* __restrict w, const float* bias,
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
        RowTapsS1<NQ, kLeft, kRight>(acc[0], x0, wc + r * 3 * kLanes);
        RowTapsS1<NQ, kLeft, kRight>(acc[1], x1, wc + r * 3 * kLanes);
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
              const __m256 b = Bcast((i == 0 ? x0 : x1) + ci - 1);
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

int64_t Bcast8PackedSize(const ConvParams& p) { return p.G * p.Cg() * 9 * kLanes; }

void Bcast8Pack(const ConvParams& p, const float* weight, float* packed) {
  const int64_t Cg = p.Cg();
  for (int64_t grp = 0; grp < p.G; ++grp) {
    for (int64_t c = 0; c < Cg; ++c) {
      for (int t = 0; t < 9; ++t) {
        for (int k = 0; k < kLanes; ++k) {
          packed[((grp * Cg + c) * 9 + t) * kLanes + k] = weight[((grp * kLanes + k) * Cg + c) * 9 + t];
        }
      }
    }
  }
}

using BlockFn = void (*)(const Geo&, int64_t, const float*, const float*, const float*, int64_t, bool, int64_t, float*,
                         const float*, bool);

template <int S, int NQ>
BlockFn PickBlock(int64_t nq, bool left, bool right) {
  if constexpr (NQ > kMaxNQ) {
    return nullptr;
  } else {
    if (nq != NQ) return PickBlock<S, NQ + 1>(nq, left, right);
    if (left) return right ? Block<S, NQ, true, true> : Block<S, NQ, true, false>;
    return right ? Block<S, NQ, false, true> : Block<S, NQ, false, false>;
  }
}

Status Bcast8Run(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  Geo g;
  static_cast<S2Geo&>(g) = MakeS2Geo(p);
  g.stride = p.stride_h;
  // Rows of Q columns in nb blocks of base or base + 1 columns, the wider
  // ones first; fn[wider][first][last].
  const int64_t nb = (g.Q + kMaxNQ - 1) / kMaxNQ, base = g.Q / nb, wider = g.Q % nb;
  // The last column's right tap reads input column S (Q - 1) + 1.
  const bool right_pad = g.stride * (g.Q - 1) + 1 >= g.W;
  BlockFn fn[2][2][2] = {};
  for (int wd = 0; wd < 2; ++wd) {
    for (int first = 0; first < 2; ++first) {
      for (int last = 0; last < 2; ++last) {
        const int64_t nq = base + wd;
        if (nq > kMaxNQ) continue;
        const bool right = last == 1 && right_pad;
        fn[wd][first][last] =
            g.stride == 1 ? PickBlock<1, 1>(nq, first == 1, right) : PickBlock<2, 1>(nq, first == 1, right);
      }
    }
  }
  const int64_t Cg = p.Cg();
  const int64_t pairs = (g.P + 1) / 2;
  const int64_t units = p.N * p.G;
  const int64_t runs = RunsPerUnit(units, pairs, pool.NumThreads());
  const bool relu = p.activation == Activation::kRelu;
  pool.Run(units * runs, [&](int64_t task, int) {
    const int64_t run = task % runs, unit = task / runs;
    const int64_t grp = unit % p.G, n = unit / p.G;
    const int64_t pr0 = run * pairs / runs, pr1 = (run + 1) * pairs / runs;
    const int64_t k0 = grp * kLanes;
    const float* in = a.input + (n * p.C + grp * Cg) * g.HW;
    const float* w = a.packed_weights + grp * Cg * 9 * kLanes;
    const float* bias = a.bias != nullptr ? a.bias + k0 : nullptr;
    float* out = a.output + (n * p.K + k0) * g.PQ;
    const float* res = a.residual != nullptr ? a.residual + (n * p.K + k0) * g.PQ : nullptr;
    for (int64_t pr = pr0; pr < pr1; ++pr) {
      for (int64_t b = 0, q0 = 0; b < nb; ++b) {
        const int wd = b < wider ? 1 : 0;
        fn[wd][b == 0][b == nb - 1](g, Cg, in, w, bias, 2 * pr, 2 * pr + 1 < g.P, q0, out, res, relu);
        q0 += base + wd;
      }
    }
  });
  return Status::Ok();
}

}  // namespace

extern const ConvImpl kConvGrouped3x3Bcast8Avx512 = {"grouped3x3_bcast8_avx512",
                                                     81,
                                                     Isa::kAvx512,
                                                     Bcast8Unsupported,
                                                     Bcast8PackedSize,
                                                     Bcast8Pack,
                                                     Bcast8Run,
                                                     /*transformed=*/false,
                                                     /*per_run=*/nullptr,
                                                     /*residual_in_place=*/nullptr,
                                                     /*alternate=*/nullptr,
                                                     Bcast8SlowerHere};
}  // namespace resnext
#pragma GCC pop_options
