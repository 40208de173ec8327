// Grouped 3x3 convolution, stride 2, padding 1, dilation 1, with 16 or more
// channels per group on small images (outputs at most 16 wide): ResNeXt's
// 512@28 and 1024@14 stride-2 layers. AVX-512 only.
//
// Why: the GEMM kernel (conv_gemm.inc) copies every task's input into a
// phase-split slab and, with the output channels in the lanes, transposes
// its result back into NCHW; at 14x14 and 7x7 outputs those two copies cost
// about a third of its time. Here nothing is copied: output pixels are in
// the lanes, one output row per vector (two rows, lanes 0-7 and 8-15, when
// the output is at most 8 wide), and the stride-2 taps of an input row come
// straight from the input by one two-source permute each: a row of at most 32
// input columns is two masked loads (one of at most 16 for paired rows), and
// lane j of the tap-s vector is input column 2j + s - 1 (left padding and
// columns past W read as zero). The output rows are stored in place, masked,
// with bias, residual and ReLU applied in registers.
//
// Register block: KB output channels (weights broadcast from the packed
// panel, embedded in the FMA) x one vector of output rows; per input channel
// and tap row, two loads and three permutes feed 3 * KB FMAs.
//
// Wider outputs (the plan does not know W) run gemm_avx512, whose weights
// the plan packs after this kernel's.
//
// Layouts:
//   packed: [G][ceil(Kg/16) panels][Cg][9 taps][16 output channels] (channels
//           past Kg zero), then gemm_avx512's packed weights.
//   tasks:  (image, group, panel, run of vectors of output rows), runs of one
//           panel consecutive (they share its weights in L1).
#include <atomic>
#include <cstdint>

#include <immintrin.h>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {

extern const ConvImpl kConvGemmAvx512;

namespace {

constexpr int64_t kPanel = 16;  // output channels per packed panel and register block

const char* RowsUnsupported(const ConvParams& p) {
  if (p.G < 2) return "needs groups > 1 (dense convolutions use the GEMM and Winograd kernels)";
  // Below 16 channels per group a vector of weights per tap is mostly zero
  // lanes of the panel; grouped3x3s2_* holds 4 and 8 per group in registers.
  if (p.Cg() < 16 || p.Kg() < 16) return "needs 16 or more channels per group (grouped3x3s2_* takes fewer)";
  if (p.R != 3 || p.S != 3) return "needs a 3x3 kernel";
  if (p.stride_h != 2 || p.stride_w != 2) return "needs stride 2";
  if (p.dil_h != 1 || p.dil_w != 1) return "needs dilation 1";
  if (p.pad_top != 1 || p.pad_left != 1 || p.pad_bottom != 1 || p.pad_right != 1) {
    return "needs padding 1 on every side";
  }
  return kConvGemmAvx512.unsupported(p);
}

int64_t Panels(const ConvParams& p) { return (p.Kg() + kPanel - 1) / kPanel; }
int64_t RowsOwnSize(const ConvParams& p) { return p.G * Panels(p) * p.Cg() * 9 * kPanel; }
int64_t RowsPackedSize(const ConvParams& p) { return RowsOwnSize(p) + kConvGemmAvx512.packed_size(p); }

void RowsPack(const ConvParams& p, const float* weight, float* packed) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), np = Panels(p);
  for (int64_t g = 0; g < p.G; ++g) {
    for (int64_t pn = 0; pn < np; ++pn) {
      float* dst = packed + (g * np + pn) * Cg * 9 * kPanel;
      for (int64_t c = 0; c < Cg; ++c) {
        for (int64_t t = 0; t < 9; ++t) {
          for (int64_t l = 0; l < kPanel; ++l) {
            const int64_t k = pn * kPanel + l;
            dst[(c * 9 + t) * kPanel + l] = k < Kg ? weight[((g * Kg + k) * Cg + c) * 9 + t] : 0.0f;
          }
        }
      }
    }
  }
  kConvGemmAvx512.pack(p, weight, packed + RowsOwnSize(p));
}

// Outputs at most 16 wide (one row per vector) read input rows of at most 32
// columns; at most 8 wide, two rows per vector.
bool RowsFits(const ConvParams& p) { return p.Q() <= 16 && p.W <= 32; }

// Everything a block needs about the geometry.
struct RowsGeo {
  int64_t H, W, P, Q, HW, PQ;
  bool paired;       // two output rows per vector (Q <= 8)
  __m512i idx[3];    // permute indices of taps s = 0, 1, 2
  __mmask16 zero_s0;  // lanes of tap s = 0 that read the left padding
  __mmask16 store;    // lanes of a vector's first row (or both rows) that are outputs
  __mmask16 store1;   // paired: lanes of the first row only
  __mmask16 lo_cols, hi_cols;  // load masks: input columns 0-15 and 16-31 inside the row
};

RowsGeo MakeRowsGeo(const ConvParams& p) {
  RowsGeo g;
  g.H = p.H;
  g.W = p.W;
  g.P = p.P();
  g.Q = p.Q();
  g.HW = p.H * p.W;
  g.PQ = g.P * g.Q;
  g.paired = g.Q <= 8;
  alignas(64) int32_t ix[3][16];
  uint32_t z0 = 0;
  for (int s = 0; s < 3; ++s) {
    for (int j = 0; j < 16; ++j) {
      // Lane j: output column jj of the vector's row (first or second).
      const int jj = g.paired ? j % 8 : j;
      const int base = g.paired && j >= 8 ? 16 : 0;
      int col = 2 * jj + s - 1;
      if (col < 0) {
        if (s == 0) z0 |= 1u << j;
        col = 0;
      }
      if (col > 31 - base) col = 31 - base;  // only lanes past the output
      ix[s][j] = base + col;
    }
    g.idx[s] = _mm512_load_si512(ix[s]);
  }
  g.zero_s0 = static_cast<__mmask16>(~z0 & 0xffffu);
  const int64_t q = g.Q;
  if (g.paired) {
    g.store1 = static_cast<__mmask16>((1u << q) - 1u);
    g.store = static_cast<__mmask16>(g.store1 | (g.store1 << 8));
  } else {
    g.store = g.store1 = static_cast<__mmask16>(q >= 16 ? 0xffffu : (1u << q) - 1u);
  }
  const int64_t lo = g.W < 16 ? g.W : 16, hi = g.W > 16 ? g.W - 16 : 0;
  g.lo_cols = static_cast<__mmask16>((1u << lo) - 1u);
  g.hi_cols = static_cast<__mmask16>((1u << hi) - 1u);
  return g;
}

// Output rows of vector v: oh = v (single) or 2v, 2v + 1 (paired).
// The two 16-column halves a permute selects from for tap row r of vector v
// of channel `chan`: single rows: columns 0-15 and 16-31 of input row 2v + r
// - 1; paired: columns 0-15 of input rows 4v + r - 1 and 4v + r + 1.
inline void LoadTapRow(const RowsGeo& g, const float* chan, int64_t v, int r, __m512& a, __m512& b) {
  if (!g.paired) {
    const int64_t ih = 2 * v + r - 1;
    if (ih < 0 || ih >= g.H) {
      a = b = _mm512_setzero_ps();
      return;
    }
    a = _mm512_maskz_loadu_ps(g.lo_cols, chan + ih * g.W);
    b = _mm512_maskz_loadu_ps(g.hi_cols, chan + ih * g.W + 16);
    return;
  }
  const int64_t ih0 = 4 * v + r - 1, ih1 = ih0 + 2;
  a = ih0 >= 0 && ih0 < g.H ? _mm512_maskz_loadu_ps(g.lo_cols, chan + ih0 * g.W) : _mm512_setzero_ps();
  // The second row of the last vector may lie past the output (odd P): its
  // lanes are not stored, and rows past the input read as zero.
  b = ih1 >= 0 && ih1 < g.H ? _mm512_maskz_loadu_ps(g.lo_cols, chan + ih1 * g.W) : _mm512_setzero_ps();
}

// One register block: KB output channels of panel `w` (16 per tap) x vector
// v of output rows, over the group's Cg input channels `in`; out/res point at
// output channel 0 of the block (plane stride PQ).
template <int KB>
void RowsBlock(const RowsGeo& g, int64_t Cg, const float* __restrict in, const float* __restrict w,
               const float* bias, int64_t v, float* out, const float* res, int kbn, bool relu) {
  __m512 acc[KB];
#pragma GCC unroll 16
  for (int k = 0; k < KB; ++k) acc[k] = _mm512_set1_ps(bias != nullptr && k < kbn ? bias[k] : 0.0f);
  for (int64_t c = 0; c < Cg; ++c) {
    const float* chan = in + c * g.HW;
    const float* wc = w + c * 9 * kPanel;
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
      __m512 a, b;
      LoadTapRow(g, chan, v, r, a, b);
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
  // Stores: single rows at row v; paired rows 2v (lanes 0-7) and 2v + 1
  // (lanes 8-15, when it exists).
  const int64_t oh = g.paired ? 2 * v : v;
  const bool second = g.paired && oh + 1 < g.P;
  const __mmask16 m0 = g.store1;
  const __mmask16 m1 = static_cast<__mmask16>(g.store & ~g.store1);
  const int64_t off0 = oh * g.Q, off1 = (oh + 1) * g.Q - 8;  // lane 8 + j -> column j of row oh + 1
#pragma GCC unroll 16
  for (int k = 0; k < KB; ++k) {
    if (k >= kbn) break;
    float* o = out + k * g.PQ;
    const float* rs = res != nullptr ? res + k * g.PQ : nullptr;
    __m512 x = acc[k];
    if (!g.paired) {
      if (rs != nullptr) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m0, rs + off0));
      if (relu) x = _mm512_max_ps(_mm512_setzero_ps(), x);
      _mm512_mask_storeu_ps(o + off0, m0, x);
    } else {
      const __mmask16 m = second ? static_cast<__mmask16>(m0 | m1) : m0;
      if (rs != nullptr) {
        __m512 r0 = _mm512_maskz_loadu_ps(m0, rs + off0);
        if (second) r0 = _mm512_mask_loadu_ps(r0, m1, rs + off1);
        x = _mm512_add_ps(x, r0);
      }
      if (relu) x = _mm512_max_ps(_mm512_setzero_ps(), x);
      _mm512_mask_storeu_ps(o + off0, m0, x);
      if (second) _mm512_mask_storeu_ps(o + off1, m & static_cast<__mmask16>(0xff00u), x);
    }
  }
}

Status RowsRun(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  if (!RowsFits(p)) {
    ConvRunArgs ag = a;
    ag.packed_weights = a.packed_weights + RowsOwnSize(p);
    return kConvGemmAvx512.run(ag, pool);
  }
  const RowsGeo g = MakeRowsGeo(p);
  const int64_t Cg = p.Cg(), Kg = p.Kg(), np = Panels(p);
  const int64_t nvec = g.paired ? (g.P + 1) / 2 : g.P;
  // Runs of vectors: at least 8 tasks per thread where the batch allows
  // (a descheduled worker's share is taken over), each run a few vectors.
  const int64_t units = p.N * p.G * np;
  const int64_t want = 8 * static_cast<int64_t>(pool.NumThreads());
  int64_t runs = 1;
  while (units * runs < want && runs < nvec) ++runs;
  const bool relu = p.activation == Activation::kRelu;
  pool.Run(units * runs, [&](int64_t task, int) {
    const int64_t run = task % runs, unit = task / runs;
    const int64_t pn = unit % np, grp = (unit / np) % p.G, n = unit / (np * p.G);
    const int64_t v0 = run * nvec / runs, v1 = (run + 1) * nvec / runs;
    const int64_t k0 = grp * Kg + pn * kPanel;
    const int kbn = static_cast<int>(Kg - pn * kPanel < kPanel ? Kg - pn * kPanel : kPanel);
    const float* in = a.input + (n * p.C + grp * Cg) * g.HW;
    const float* w = a.packed_weights + (grp * np + pn) * Cg * 9 * kPanel;
    const float* bias = a.bias != nullptr ? a.bias + k0 : nullptr;
    float* out = a.output + (n * p.K + k0) * g.PQ;
    const float* res = a.residual != nullptr ? a.residual + (n * p.K + k0) * g.PQ : nullptr;
    for (int64_t v = v0; v < v1; ++v) {
      if (kbn > 8) {
        RowsBlock<16>(g, Cg, in, w, bias, v, out, res, kbn, relu);
      } else {
        RowsBlock<8>(g, Cg, in, w, bias, v, out, res, kbn, relu);
      }
    }
  });
  return Status::Ok();
}

}  // namespace

extern const ConvImpl kConvGrouped3x3s2RowsAvx512 = {
    "grouped3x3s2_rows_avx512", 81, Isa::kAvx512, RowsUnsupported, RowsPackedSize, RowsPack, RowsRun,
    /*transformed=*/false,
    /*per_run=*/
    "direct, output rows in the lanes, when the output is at most 16 wide and the input at most 32; "
    "wider images run gemm_avx512"};
}  // namespace resnext
#pragma GCC pop_options
