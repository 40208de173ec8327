// Grouped 3x3 convolution, stride 2, padding 1, dilation 1, with exactly 16
// output and 16 to 32 input channels per group, on outputs 7 to 224 wide
// except 15 and 16: ResNeXt-50 32x4d's 512@28 stride-2 layer (14x14 outputs),
// ResNeXt-101 64x4d's 1024@28 and 32x8d's 512@56 (28x28). AVX-512 only.
//
// Why: grouped3x3s2_rows_avx512 keeps output pixels in the lanes, so a
// 14-wide row leaves 2 of 16 lanes idle and every tap row costs three
// permutes on the FMA port: at most 82% of the FMA peak (it measured 74% on
// one thread). With exactly 16 output channels per group the channels fill one
// vector, so here they are the lanes and each input pixel is broadcast from
// the input in place (embedded in the FMA): no idle lanes, no permutes, one
// load per FMA as before. The 3x3 window's padding costs nothing: the left
// padding column is left out at compile time, rows above and below the image
// (and below a last odd output row, computed but not stored) read a zero row,
// and the right padding column of odd widths is left out by a template flag.
// The price is a 16 x 16 register transpose per output row before the NCHW
// stores (about 5% of the FMAs' time).
//
// Register block: two output rows x NQ (7 to 14) pixels, 16 output channels
// each: 28 accumulators at 14 wide; per input channel and tap, one weight
// vector load feeds 2 * NQ FMAs, each with its input pixel broadcast. Rows
// wider than 14 are split into blocks of equal width.
//
// Other widths run grouped3x3s2_rows_avx512 (whose panel layout with one
// 16-channel panel is this kernel's, so the weights are packed once for both)
// and from there gemm_avx512.
//
// Layouts:
//   packed: grouped3x3s2_rows_avx512's: [G][Cg][9 taps][16 output channels],
//           then gemm_avx512's packed weights.
//   tasks:  (image, group, run of row pairs). Prefetching the next
//           (image, group)'s input into L2 during a task (it follows in
//           memory) made batch 8 slower (0.88 vs 0.75 ms, 2 threads): the
//           hardware prefetchers already follow the 16 channel planes.
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

extern const ConvImpl kConvGroupedS2RowsAvx512;

namespace {

#include "transpose16_avx512.inc"

constexpr int kLanes = 16;              // output channels per group = lanes
constexpr int kMinNQ = 7, kMaxNQ = 14;  // output columns per register block

const char* BcastUnsupported(const ConvParams& p) {
  if (p.G < 2) return "needs groups > 1 (dense convolutions use the GEMM and Winograd kernels)";
  if (p.Kg() != kLanes) return "needs exactly 16 output channels per group (one vector of them)";
  // The rest (Cg 16-32, 3x3, stride 2, padding 1) is what the row kernel,
  // which runs the other widths, accepts.
  return kConvGroupedS2RowsAvx512.unsupported(p);
}

// A block is two output rows x NQ columns, 7 to 14: two rows of 14 fill 28
// of the 32 vector registers; narrower blocks leave too few accumulators to
// hide the FMA latency behind one weight load. Rows of 7 to 14 are one
// block; wider ones are split into ceil(Q / 14) blocks of equal width (+-1).
// Rows of 15 and 16 (two blocks of 7-8) fill the row kernel's lanes, and it is
// as fast there (1 thread, batch 1, 512@30 and 512@32 g32: 0.222 vs 0.228 ms,
// 0.248 vs 0.244), so they stay with it; narrower than 7 runs gemm.
constexpr int kMaxBlocks = 16;  // inputs up to 448 wide
bool BcastFits(const ConvParams& p) {
  const int64_t q = p.Q();
  return q >= kMinNQ && q <= kMaxBlocks * kMaxNQ && q != 15 && q != 16;
}

// Zeros read for input rows outside the image: a block reads input columns
// -1 to 2 NQ - 1 of its own.
alignas(64) const float kZeroRow[2 * kMaxNQ + 4] = {};

#include "conv_s2_common_avx512.inc"

using BcastGeo = S2Geo;

// Input row ih from column c0 on (x[-1] is column c0 - 1), or zeros outside
// the image.
inline const float* InputRow(const BcastGeo& g, const float* chan, int64_t ih, int64_t c0) {
  return ih < 0 || ih >= g.H ? kZeroRow + 1 : chan + ih * g.W + c0;
}

// Output rows oh and oh + 1 (the second only when it exists, `two`), columns
// q0 to q0 + NQ - 1, of the group's 16 output channels at `out` (plane stride
// PQ), over its Cg input channels `in` with weights w ([Cg][9][16]). kLeft: the
// first output column's left tap is the padding (q0 = 0); kRight: the last
// one's right tap is (the row's end on odd input widths).
template <int NQ, bool kLeft, bool kRight>
void BcastBlock(const BcastGeo& g, int64_t Cg, const float* __restrict in, const float* __restrict w, const float* bias,
                int64_t oh, bool two, int64_t q_first, float* out, const float* res, bool relu) {
  // kLeft means the first block: a constant 0 spares the one-block rows the
  // column offset's registers in the loop (2-3% at 14 wide).
  const int64_t q0 = kLeft ? 0 : q_first;
  __m512 acc[2][NQ];
  const __m512 b0 = bias != nullptr ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int j = 0; j < NQ; ++j) acc[0][j] = acc[1][j] = b0;
  for (int64_t c = 0; c < Cg; ++c) {
    const float* chan = in + c * g.HW;
    const float* wc = w + c * 9 * kLanes;
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
      const float* x0 = InputRow(g, chan, 2 * oh + r - 1, 2 * q0);
      const float* x1 = InputRow(g, chan, 2 * oh + r + 1, 2 * q0);
#pragma GCC unroll 3
      for (int s = 0; s < 3; ++s) {
        const __m512 wv = _mm512_loadu_ps(wc + (r * 3 + s) * kLanes);
        // Output column q0 + j reads x[2 j + s - 1]: with kLeft, column -1
        // (j = 0, s = 0) and, with kRight, column W (j = NQ - 1, s = 2) are
        // padding.
        const int j0 = s == 0 && kLeft ? 1 : 0, j1 = s == 2 && kRight ? NQ - 1 : NQ;
#pragma GCC unroll 16
        for (int j = j0; j < j1; ++j) {
          acc[0][j] = FmaBcast(acc[0][j], wv, x0 + 2 * j + s - 1);
          acc[1][j] = FmaBcast(acc[1][j], wv, x1 + 2 * j + s - 1);
        }
      }
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    if (i == 1 && !two) break;
    const int64_t off = (oh + i) * g.Q + q0;
    StoreLanesAsRows<NQ>(acc[i], out + off, res != nullptr ? res + off : nullptr, g.PQ, relu);
  }
}

// The row kernel's weight layout (see the file comment).
int64_t BcastPackedSize(const ConvParams& p) { return kConvGroupedS2RowsAvx512.packed_size(p); }
void BcastPack(const ConvParams& p, const float* weight, float* packed) {
  kConvGroupedS2RowsAvx512.pack(p, weight, packed);
}

using BlockFn = void (*)(const BcastGeo&, int64_t, const float*, const float*, const float*, int64_t, bool, int64_t,
                         float*, const float*, bool);

template <int NQ>
BlockFn PickBlock(int64_t nq, bool left, bool right) {
  if constexpr (NQ > kMaxNQ) {
    return nullptr;
  } else {
    if (nq != NQ) return PickBlock<NQ + 1>(nq, left, right);
    if (left) return right ? BcastBlock<NQ, true, true> : BcastBlock<NQ, true, false>;
    return right ? BcastBlock<NQ, false, true> : BcastBlock<NQ, false, false>;
  }
}

// A column block of the output rows: its first column and its function.
struct ColumnBlock {
  int64_t q0;
  BlockFn fn;
};

Status BcastRun(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  if (!BcastFits(p)) return kConvGroupedS2RowsAvx512.run(a, pool);
  const BcastGeo g = MakeS2Geo(p);
  const int64_t nb = (g.Q + kMaxNQ - 1) / kMaxNQ;
  ColumnBlock blocks[kMaxBlocks];
  for (int64_t b = 0, q0 = 0; b < nb; ++b) {
    const int64_t nq = g.Q / nb + (b < g.Q % nb ? 1 : 0);
    // Input column 2 (Q - 1) + 1 is past the image when W is odd (W = 2 Q - 1).
    blocks[b] = {q0, PickBlock<kMinNQ>(nq, b == 0, b == nb - 1 && 2 * g.Q - 1 >= g.W)};
    q0 += nq;
  }
  const int64_t Cg = p.Cg();
  const int64_t pairs = (g.P + 1) / 2;
  // Runs of row pairs.
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
      for (int64_t b = 0; b < nb; ++b) {
        blocks[b].fn(g, Cg, in, w, bias, 2 * pr, 2 * pr + 1 < g.P, blocks[b].q0, out, res, relu);
      }
    }
  });
  return Status::Ok();
}

}  // namespace

extern const ConvImpl kConvGroupedS2BcastAvx512 = {
    "grouped3x3s2_bcast_avx512", 82, Isa::kAvx512, BcastUnsupported, BcastPackedSize, BcastPack, BcastRun,
    /*transformed=*/false,
    /*per_run=*/
    "direct, output channels in the lanes, when the output is 7 to 224 wide but not 15 or 16; other widths run "
    "grouped3x3s2_rows_avx512"};
}  // namespace resnext
#pragma GCC pop_options
