// Grouped 3x3 convolution, stride 2, padding 1, dilation 1, with exactly 32
// output and 16 to 64 input channels per group, on outputs 7 to 14 wide:
// ResNeXt-50 32x4d's 1024@14 stride-2 layer (7x7 outputs). AVX-512 only.
//
// Why: grouped3x3s2_small_avx512 (and gemm_avx512) keep the output channels
// in the lanes too, but first copy every group's input into stride-phase
// planes (about 15% of their time). Here, as in grouped3x3s2_bcast_avx512
// (16 per group), each input pixel is broadcast from the input in place by
// the FMA's memory operand: nothing is copied, no lanes idle, no permutes.
// Padding costs nothing: the left padding column is left out at compile time,
// rows above and below the image read a zero row, and the right padding column
// of odd widths is left out by a template flag. The price is a 16 x 16
// register transpose per output row and vector of channels before the NCHW
// stores.
//
// Register block: R output rows x NQ pixels x 32 output channels (two
// vectors): 2 x 7 x 2 = 28 accumulators at 7 wide, 1 x NQ x 2 from 8 to 14.
// Per input channel and tap, two weight vector loads feed 2 R NQ FMAs, each
// with its input pixel broadcast (every pixel is broadcast twice, once per
// vector: the loads have ports to spare, a shared broadcast register would
// not fit beside the accumulators and weights). An odd last row of a 7-wide
// output is a one-row block (no row computed and thrown away).
//
// Other widths (the plan does not know H and W) and padding other than 1 run
// grouped3x3s2_small_avx512, whose weights this kernel reads, and from there
// gemm_avx512.
//
// Layouts:
//   packed: grouped3x3s2_small_avx512's: [G][Cg][9 taps][32 output channels],
//           then gemm_avx512's packed weights.
//   tasks:  (group, image, run of row blocks), images inside groups: a
//           thread's consecutive tasks share the group's weights (36 KiB at
//           Cg 32) in L1/L2 (at batch 8 on 2 threads about 3% faster than groups
//           inside images). A group's first task prefetches the next group's
//           weights into L2 (in a network they come from memory: layer4.0.conv2
//           in ResNeXt-50's forward 0-15% faster at batch 1, 2-6% at batch 8).
//           Prefetching the next task's input into L2 during its first row
//           block made batch 8 slower (0.74-0.77 vs 0.70-0.75 ms): the
//           hardware prefetchers follow its contiguous planes.
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// GCC 12 warns that _mm512_setzero_ps reads an uninitialized vector (its
// inline body starts from a self-initialised one, never read), also as
// "is used uninitialized" where the zero fills the transpose's idle rows.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace resnext {

extern const ConvImpl kConvGroupedS2SmallAvx512;

namespace {

#include "transpose16_avx512.inc"

constexpr int kLanes = 16;              // output channels per vector
constexpr int kKg = 2 * kLanes;         // output channels per group: two vectors
constexpr int kMinNQ = 7, kMaxNQ = 14;  // output columns: one block per row

const char* Bcast32Unsupported(const ConvParams& p) {
  if (p.G < 2) return "needs groups > 1 (dense convolutions use the GEMM and Winograd kernels)";
  if (p.Kg() != kKg) return "needs exactly 32 output channels per group (two vectors of them)";
  // The rest (Cg 16-64, 3x3, stride 2, padding 0 or 1) is what the small
  // kernel, which runs the other sizes, accepts.
  return kConvGroupedS2SmallAvx512.unsupported(p);
}

bool Bcast32Fits(const ConvParams& p) {
  const int64_t q = p.Q();
  return p.pad_top == 1 && p.pad_left == 1 && p.pad_bottom == 1 && p.pad_right == 1 && q >= kMinNQ && q <= kMaxNQ;
}

// Zeros read for input rows outside the image: a block reads input columns
// -1 to 2 NQ - 1.
alignas(64) const float kZeroRow[2 * kMaxNQ + 4] = {};

#include "conv_s2_common_avx512.inc"

using Bcast32Geo = S2Geo;

// Input row ih (x[-1] is column -1), or zeros outside the image.
inline const float* InputRow(const Bcast32Geo& g, const float* chan, int64_t ih) {
  return ih < 0 || ih >= g.H ? kZeroRow + 1 : chan + ih * g.W;
}

// Output rows oh to oh + R - 1, all NQ = Q columns, of the group's 32 output
// channels at `out` (plane stride PQ), over its Cg input channels `in` with
// weights w ([Cg][9][32]). kTop: oh = 0, whose top tap row is the padding
// (left out: 1 of the 6 tap rows of a two-row block); kRight: the last
// column's right tap is the padding (odd input widths). pf: the next group's
// weights (same layout) to prefetch into L2 under this block's FMAs, or null.
template <int NQ, int R, bool kTop, bool kRight>
void Bcast32Block(const Bcast32Geo& g, int64_t Cg, const float* __restrict in, const float* __restrict w,
                  const float* bias, int64_t oh, float* out, const float* res, bool relu, const float* pf) {
  static_assert(2 * R * NQ <= 28, "accumulators must leave registers for the weights");
  __m512 acc[R][2][NQ];
  const __m512 b0 = bias != nullptr ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
  const __m512 b1 = bias != nullptr ? _mm512_loadu_ps(bias + kLanes) : _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 16
    for (int j = 0; j < NQ; ++j) {
      acc[i][0][j] = b0;
      acc[i][1][j] = b1;
    }
  }
  for (int64_t c = 0; c < Cg; ++c) {
    const float* chan = in + c * g.HW;
    const float* wc = w + c * 9 * kKg;
    if (pf != nullptr) {
      const char* pc = reinterpret_cast<const char*>(pf + c * 9 * kKg);
      for (int o = 0; o < 9 * kKg * 4; o += 64) _mm_prefetch(pc + o, _MM_HINT_T1);
    }
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
      const float* x[R];
#pragma GCC unroll 2
      for (int i = 0; i < R; ++i) x[i] = InputRow(g, chan, 2 * (oh + i) + r - 1);
#pragma GCC unroll 3
      for (int s = 0; s < 3; ++s) {
        const __m512 w0 = _mm512_loadu_ps(wc + (r * 3 + s) * kKg);
        const __m512 w1 = _mm512_loadu_ps(wc + (r * 3 + s) * kKg + kLanes);
        // Output column j reads x[2 j + s - 1]: column -1 (j = 0, s = 0)
        // and, with kRight, column W (j = NQ - 1, s = 2) are padding.
        const int j0 = s == 0 ? 1 : 0, j1 = s == 2 && kRight ? NQ - 1 : NQ;
#pragma GCC unroll 16
        for (int j = j0; j < j1; ++j) {
#pragma GCC unroll 2
          for (int i = kTop && r == 0 ? 1 : 0; i < R; ++i) {
            acc[i][0][j] = FmaBcast(acc[i][0][j], w0, x[i] + 2 * j + s - 1);
            acc[i][1][j] = FmaBcast(acc[i][1][j], w1, x[i] + 2 * j + s - 1);
          }
        }
      }
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < 2; ++v) {
      // Output channels 16 v .. 16 v + 15 of row oh + i.
      const int64_t off = (v * kLanes) * g.PQ + (oh + i) * g.Q;
      StoreLanesAsRows<NQ>(acc[i][v], out + off, res != nullptr ? res + off : nullptr, g.PQ, relu);
    }
  }
}

// The small kernel's weight layout (see the file comment).
int64_t Bcast32PackedSize(const ConvParams& p) { return kConvGroupedS2SmallAvx512.packed_size(p); }
void Bcast32Pack(const ConvParams& p, const float* weight, float* packed) {
  kConvGroupedS2SmallAvx512.pack(p, weight, packed);
}

using BlockFn = void (*)(const Bcast32Geo&, int64_t, const float*, const float*, const float*, int64_t, float*,
                         const float*, bool, const float*);

// Rows per block at NQ columns: two where 2 x 2 x NQ accumulators fit (7
// wide), else one.
constexpr int RowsPerBlock(int nq) { return 4 * nq <= 28 ? 2 : 1; }

template <int NQ, int R, bool kTop>
BlockFn PickRight(bool right) {
  return right ? Bcast32Block<NQ, R, kTop, true> : Bcast32Block<NQ, R, kTop, false>;
}

template <int NQ, int R>
BlockFn PickTop(bool top, bool right) {
  return top ? PickRight<NQ, R, true>(right) : PickRight<NQ, R, false>(right);
}

template <int NQ>
BlockFn PickBlock(int64_t nq, int rows, bool top, bool right) {
  if constexpr (NQ > kMaxNQ) {
    return nullptr;
  } else {
    if (nq != NQ) return PickBlock<NQ + 1>(nq, rows, top, right);
    if constexpr (RowsPerBlock(NQ) == 2) {
      if (rows == 2) return PickTop<NQ, 2>(top, right);
    }
    return PickTop<NQ, 1>(top, right);
  }
}

Status Bcast32Run(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  if (!Bcast32Fits(p)) return kConvGroupedS2SmallAvx512.run(a, pool);
  const Bcast32Geo g = MakeS2Geo(p);
  const int rpb = RowsPerBlock(static_cast<int>(g.Q));
  // Input column 2 (Q - 1) + 1 is past the image when W is odd (W = 2 Q - 1).
  const bool right = 2 * g.Q - 1 >= g.W;
  const int64_t nblocks = (g.P + rpb - 1) / rpb;
  const int last_rows = static_cast<int>(g.P - (nblocks - 1) * rpb);
  // Functions of the first, middle and last row blocks (one block: the first
  // with the last one's rows).
  const BlockFn first = PickBlock<kMinNQ>(g.Q, nblocks == 1 ? last_rows : rpb, true, right);
  const BlockFn middle = PickBlock<kMinNQ>(g.Q, rpb, false, right);
  const BlockFn last = PickBlock<kMinNQ>(g.Q, last_rows, false, right);
  const int64_t Cg = p.Cg();
  // Runs of row blocks.
  const int64_t units = p.G * p.N;
  const int64_t runs = RunsPerUnit(units, nblocks, pool.NumThreads());
  const bool relu = p.activation == Activation::kRelu;
  pool.Run(units * runs, [&](int64_t task, int) {
    const int64_t run = task % runs, unit = task / runs;
    const int64_t n = unit % p.N, grp = unit / p.N;
    const int64_t b0 = run * nblocks / runs, b1 = (run + 1) * nblocks / runs;
    const int64_t k0 = grp * kKg;
    const float* in = a.input + (n * p.C + grp * Cg) * g.HW;
    const float* w = a.packed_weights + grp * Cg * 9 * kKg;
    const float* bias = a.bias != nullptr ? a.bias + k0 : nullptr;
    float* out = a.output + (n * p.K + k0) * g.PQ;
    const float* res = a.residual != nullptr ? a.residual + (n * p.K + k0) * g.PQ : nullptr;
    for (int64_t b = b0; b < b1; ++b) {
      const BlockFn fn = b == 0 ? first : b == nblocks - 1 ? last : middle;
      // The first image's first block of a group prefetches the next group's
      // weights, read N tasks later (in a network they come from memory).
      const bool pf = n == 0 && b == 0 && grp + 1 < p.G;
      fn(g, Cg, in, w, bias, b * rpb, out, res, relu, pf ? w + Cg * 9 * kKg : nullptr);
    }
  });
  return Status::Ok();
}

}  // namespace

extern const ConvImpl kConvGroupedS2B32Avx512 = {
    "grouped3x3s2_bcast32_avx512", 82, Isa::kAvx512, Bcast32Unsupported, Bcast32PackedSize, Bcast32Pack, Bcast32Run,
    /*transformed=*/false,
    /*per_run=*/
    "direct, 32 output channels in two vectors, when the padding is 1 and the output is 7 to 14 wide; other sizes "
    "run grouped3x3s2_small_avx512"};
}  // namespace resnext
#pragma GCC pop_options
