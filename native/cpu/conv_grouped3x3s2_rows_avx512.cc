// Grouped 3x3 convolution, stride 2, padding 1, dilation 1, with 16 to 32
// input and 16 to 24 output channels per group on small images (outputs 9 to
// 16 wide). AVX-512 only. With exactly 16 output channels per group and
// outputs 9 to 14 wide (ResNeXt-50 32x4d's 512@28 stride-2 layer),
// grouped3x3s2_bcast_avx512 runs instead (channels in the lanes, no idle
// lanes or permutes) and hands the other widths to this kernel.
//
// Why: the GEMM kernel (conv_gemm.inc) copies every task's input into a
// phase-split slab and, with the output channels in the lanes, transposes
// its result back into NCHW; at 14x14 outputs with 16 output channels per
// group (one vector of them) those two copies cost about a third of its time. Here nothing is copied: output pixels are
// in the lanes, one output row per vector, and the stride-2 taps of an input row come straight from the input by one
// two-source permute each: a row of at most 32 input columns is two masked loads, and lane j of the tap-s vector is
// input column 2j + s - 1 (left padding and columns past W read as zero). The output rows are stored in place, masked,
// with bias, residual and ReLU applied in registers.
//
// Register block: KB output channels (weights broadcast from the packed
// panel, embedded in the FMA) x one vector of output rows; per input channel
// and tap row, two loads and three permutes feed 3 * KB FMAs.
//
// Other widths (the plan does not know W) run gemm_avx512, whose weights the
// plan packs after this kernel's: past 16 the rows no longer fit a vector,
// and at 8 or less most lanes would idle. Measured (1 thread, batch 1, same
// process, min of 9 samples; shared machine): 512@28 (14 wide) 0.295 ms vs
// gemm 0.431; at 7 wide (1024@14, two rows per vector) 0.318 vs gemm 0.243,
// so 7x7 outputs stay with gemm, whose channels-in-lanes blocks waste no
// lanes.
// A channels-in-lanes variant of this kernel for them (pixels broadcast from
// a zero-bordered copy of the group's input instead of gemm's phase slab)
// measured 0.261 vs 0.247 ms at batch 1 and 2.10 vs 1.94 at batch 8: no gain.
//
// Layouts:
//   packed: (conv_s2_panels.inc) [G][ceil(Kg/16) panels][Cg][9 taps][16 output channels] (channels
//           past Kg zero), then gemm_avx512's packed weights.
//   tasks:  (image, group, panel, run of vectors of output rows), runs of one
//           panel consecutive (they share its weights in L1).
#include <atomic>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
// GCC 12 warns that _mm512_setzero_ps reads an uninitialized vector (its
// inline body starts from a self-initialised one, never read).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace resnext {

extern const ConvImpl kConvGemmAvx512;

namespace {

constexpr int64_t kPanel = 16;  // output channels per packed panel and register block

const char* RowsUnsupported(const ConvParams& p) {
  if (p.G < 2) return "needs groups > 1 (dense convolutions use the GEMM and Winograd kernels)";
  // Below 16 channels per group a vector of weights per tap is mostly zero
  // lanes of the panel; grouped3x3s2_* holds 4 and 8 per group in registers.
  if (p.Cg() < 16 || p.Kg() < 16) return "needs 16 or more channels per group (grouped3x3s2_* takes fewer)";
  // gemm's channels-in-lanes blocks take 32 output channels at a time: with
  // 16-24 per group they run half-empty and this kernel wins; from 32 on they
  // do not. Measured (1 thread, batch 1, ms, this kernel vs gemm, 28x28 in):
  // Cg/Kg 16/16 0.28 vs 0.37, 16/24 0.43 vs 0.50, 32/16 0.53 vs 0.74, 16/32
  // 0.53 vs 0.56, 32/32 0.95 vs 0.97 (batch 8: 7.3 vs 7.0), 64/64 3.7 vs 3.1.
  if (p.Kg() > 24 || p.Cg() > 32) {
    return "more than 24 output or 32 input channels per group (gemm_avx512 is as fast from 32 output channels on)";
  }
  if (p.R != 3 || p.S != 3) return "needs a 3x3 kernel";
  if (p.stride_h != 2 || p.stride_w != 2) return "needs stride 2";
  if (p.dil_h != 1 || p.dil_w != 1) return "needs dilation 1";
  if (p.pad_top != 1 || p.pad_left != 1 || p.pad_bottom != 1 || p.pad_right != 1) {
    return "needs padding 1 on every side";
  }
  return kConvGemmAvx512.unsupported(p);
}

#include "conv_s2_panels.inc"

// Outputs 9 to 16 wide: one row per vector, input rows of at most 32 columns.
bool RowsFits(const ConvParams& p) { return p.Q() > 8 && p.Q() <= 16 && p.W <= 32; }

#include "conv_s2_common_avx512.inc"

// Everything a block needs about the geometry.
struct RowsGeo : S2Geo {
  __m512i idx[3];              // permute indices of taps s = 0, 1, 2
  __mmask16 zero_s0;           // lanes of tap s = 0 that do not read the left padding
  __mmask16 store;             // lanes that are output columns
  __mmask16 lo_cols, hi_cols;  // load masks: input columns 0-15 and 16-31 inside the row
};

RowsGeo MakeRowsGeo(const ConvParams& p) {
  RowsGeo g;
  static_cast<S2Geo&>(g) = MakeS2Geo(p);
  alignas(64) int32_t ix[3][16];
  for (int s = 0; s < 3; ++s) {
    for (int j = 0; j < 16; ++j) {
      const int col = 2 * j + s - 1;  // lane j: output column j
      ix[s][j] = col < 0 ? 0 : col > 31 ? 31 : col;
    }
    g.idx[s] = _mm512_load_si512(ix[s]);
  }
  g.zero_s0 = static_cast<__mmask16>(0xfffeu);  // lane 0 of tap 0 is the left padding
  g.store = static_cast<__mmask16>(g.Q >= 16 ? 0xffffu : (1u << g.Q) - 1u);
  const int64_t lo = g.W < 16 ? g.W : 16, hi = g.W > 16 ? g.W - 16 : 0;
  g.lo_cols = static_cast<__mmask16>((1u << lo) - 1u);
  g.hi_cols = static_cast<__mmask16>((1u << hi) - 1u);
  return g;
}

// The two 16-column halves (columns 0-15 and 16-31) of input row 2 oh + r -
// 1 of channel `chan`, the tap row r of output row oh; zero outside the image.
inline void LoadTapRow(const RowsGeo& g, const float* chan, int64_t oh, int r, __m512& a, __m512& b) {
  const int64_t ih = 2 * oh + r - 1;
  if (ih < 0 || ih >= g.H) {
    a = b = _mm512_setzero_ps();
    return;
  }
  a = _mm512_maskz_loadu_ps(g.lo_cols, chan + ih * g.W);
  b = _mm512_maskz_loadu_ps(g.hi_cols, chan + ih * g.W + 16);
}

// One register block: KB output channels of panel `w` (16 per tap) x output
// row oh, over the group's Cg input channels `in`; out/res point at output
// channel 0 of the block (plane stride PQ).
template <int KB>
void RowsBlock(const RowsGeo& g, int64_t Cg, const float* __restrict in, const float* __restrict w, const float* bias,
               int64_t oh, float* out, const float* res, int kbn, bool relu) {
  __m512 acc[KB];
#pragma GCC unroll 16
  for (int k = 0; k < KB; ++k) acc[k] = _mm512_set1_ps(bias != nullptr && k < kbn ? bias[k] : 0.0f);
  for (int64_t c = 0; c < Cg; ++c) {
    const float* chan = in + c * g.HW;
    const float* wc = w + c * 9 * kPanel;
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
      __m512 a, b;
      LoadTapRow(g, chan, oh, r, a, b);
      const __m512 x0 = _mm512_maskz_permutex2var_ps(g.zero_s0, a, g.idx[0], b);
      const __m512 x1 = _mm512_permutex2var_ps(a, g.idx[1], b);
      const __m512 x2 = _mm512_permutex2var_ps(a, g.idx[2], b);
      const float* wr = wc + r * 3 * kPanel;
#pragma GCC unroll 16
      for (int k = 0; k < KB; ++k) acc[k] = _mm512_fmadd_ps(x0, _mm512_set1_ps(wr[k]), acc[k]);
#pragma GCC unroll 16
      for (int k = 0; k < KB; ++k) acc[k] = _mm512_fmadd_ps(x1, _mm512_set1_ps(wr[kPanel + k]), acc[k]);
#pragma GCC unroll 16
      for (int k = 0; k < KB; ++k) acc[k] = _mm512_fmadd_ps(x2, _mm512_set1_ps(wr[2 * kPanel + k]), acc[k]);
    }
  }
  const int64_t off = oh * g.Q;
#pragma GCC unroll 16
  for (int k = 0; k < KB; ++k) {
    if (k >= kbn) break;
    __m512 x = acc[k];
    if (res != nullptr) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(g.store, res + k * g.PQ + off));
    if (relu) x = _mm512_max_ps(_mm512_setzero_ps(), x);
    _mm512_mask_storeu_ps(out + k * g.PQ + off, g.store, x);
  }
}

Status RowsRun(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  if (!RowsFits(p)) {
    ConvRunArgs ag = a;
    ag.packed_weights = a.packed_weights + PanelsOwnSize(p);
    return kConvGemmAvx512.run(ag, pool);
  }
  const RowsGeo g = MakeRowsGeo(p);
  const int64_t Cg = p.Cg(), Kg = p.Kg(), np = Panels(p);
  const int64_t nvec = g.P;  // vectors: one per output row
  // Runs of rows: at least 8 tasks per thread where the batch allows (a
  // descheduled worker's share is taken over).
  const int64_t units = p.N * p.G * np;
  const int64_t want = 8 * static_cast<int64_t>(pool.NumThreads());
  int64_t runs = 1;
  while (units * runs < want && runs < nvec) ++runs;
  const bool relu = p.activation == Activation::kRelu;
  pool.Run(units * runs, [&](int64_t task, int) {
    const int64_t run = task % runs, unit = task / runs;
    const int64_t pn = unit % np, grp = (unit / np) % p.G, n = unit / (np * p.G);
    const int64_t oh0 = run * nvec / runs, oh1 = (run + 1) * nvec / runs;
    const int64_t k0 = grp * Kg + pn * kPanel;
    const int kbn = static_cast<int>(Kg - pn * kPanel < kPanel ? Kg - pn * kPanel : kPanel);
    const float* in = a.input + (n * p.C + grp * Cg) * g.HW;
    const float* w = a.packed_weights + (grp * np + pn) * Cg * 9 * kPanel;
    const float* bias = a.bias != nullptr ? a.bias + k0 : nullptr;
    float* out = a.output + (n * p.K + k0) * g.PQ;
    const float* res = a.residual != nullptr ? a.residual + (n * p.K + k0) * g.PQ : nullptr;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      if (kbn > 8) {
        RowsBlock<16>(g, Cg, in, w, bias, oh, out, res, kbn, relu);
      } else {
        RowsBlock<8>(g, Cg, in, w, bias, oh, out, res, kbn, relu);
      }
    }
  });
  return Status::Ok();
}

}  // namespace

extern const ConvImpl kConvGroupedS2RowsAvx512 = {
    "grouped3x3s2_rows_avx512", 81, Isa::kAvx512, RowsUnsupported, PanelsPackedSize, PanelsPack, RowsRun,
    /*transformed=*/false,
    /*per_run=*/
    "direct, output rows in the lanes, when the output is 9 to 16 wide; other widths run gemm_avx512"};
}  // namespace resnext
#pragma GCC pop_options
