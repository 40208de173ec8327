// Grouped 3x3 convolution, stride 2, dilation 1, padding 0 or 1, with 25 to
// 32 output and 16 to 64 input channels per group on batches of small images
// (inputs at most 16 wide, outputs at most 64 pixels): ResNeXt-50 32x4d's
// 1024@14 stride-2 layer (7x7 outputs, 32 channels per group) at batch > 1.
// AVX-512 only.
// With exactly 32 output channels per group, padding 1 and outputs 7 to 14
// wide (that layer among them, at every batch),
// grouped3x3s2_bcast32_avx512 runs instead (pixels broadcast from the input in
// place, no plane copy) and hands the other sizes to this kernel.
//
// Every (image, group) input is copied, a block of 8 channels at a time, into
// six stride-phase planes per channel, one per (input row parity a, tap
// column s), each [P + 1 rows][Q columns] with no padding columns:
//   plane[c][a][s][i][ow] = x[c][2i + a - pad_top][2ow + s - pad_left] (0 outside),
// so output pixel p = oh * Q + ow reads tap (r, s) at plane[c][r % 2][s] +
// (r / 2) * Q + p: consecutive pixels are consecutive floats across output
// rows, and a run of up to 14 pixels x 32 output channels (two vectors, 28
// zmm accumulators; 49 = 13 + 12 + 12 + 12) broadcasts each pixel from a
// compile-time offset of one pointer per tap. A block's planes (11 KiB) and
// weights (9 KiB) stay in L1 while every run passes over them; the runs' sums
// wait in an L1 tile [64 pixels][32 channels], which the epilogue (bias,
// residual, ReLU) transposes into the NCHW output in 16 x 16 blocks.
//
// Measured against gemm_avx512 (whose transposed two-row kernel does the same
// multiply-adds from its phase slab), same process, interleaved, 2 threads,
// shared machine: 1.03-1.09x at batch 8, 1.03x at batch 2 and 0.95-0.97x at
// batch 1, so batch 1 runs gemm_avx512. Per (image, group) at batch 8, 1
// thread: the FMAs take about 80% of the time, the plane fill 15% (bound by
// its own permutes and stores, not by reading the input), the epilogue 5%.
//
// Batch 1 and other sizes (the plan does not know N, H and W) run
// gemm_avx512, whose weights the plan packs after this kernel's.
//
// Layouts:
//   packed:  (conv_s2_panels.inc) [G][ceil(Kg/32) panels][Cg][9 taps][32 output channels]
//            (channels past Kg zero), then gemm_avx512's packed weights.
//   scratch: planes [8][2][3][P + 1][Q] | tile [64][32], per thread.
//   tasks:   (group, image), images innermost: a thread's consecutive tasks
//            share the group's weights (36 KiB at 32 x 32) in L1/L2.
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

constexpr int64_t kPanel = 32;     // output channels per packed panel: two vectors
constexpr int kRunMax = 14;        // pixels per register block (2 x 14 accumulators)
constexpr int64_t kPixMax = 64;    // output pixels per image at most (the tile's rows)
constexpr int64_t kChanBlock = 8;  // input channels per block of planes

const char* SmallUnsupported(const ConvParams& p) {
  if (p.G < 2) return "needs groups > 1 (dense convolutions use the GEMM and Winograd kernels)";
  // Measured only at 32 output channels per group (ResNeXt-50's 1024@14
  // stride 2); with fewer the panel's second vector is mostly zero lanes and
  // grouped3x3s2_rows_avx512 / grouped3x3s2_* take 4 to 24.
  if (p.Kg() < 25 || p.Kg() > 32) return "needs 25 to 32 output channels per group";
  if (p.Cg() < 16 || p.Cg() > 64) return "needs 16 to 64 input channels per group";
  if (p.R != 3 || p.S != 3) return "needs a 3x3 kernel";
  if (p.stride_h != 2 || p.stride_w != 2) return "needs stride 2";
  if (p.dil_h != 1 || p.dil_w != 1) return "needs dilation 1";
  if (p.pad_top > 1 || p.pad_left > 1 || p.pad_bottom > 1 || p.pad_right > 1) return "needs padding 0 or 1";
  return kConvGemmAvx512.unsupported(p);
}

#include "conv_s2_panels.inc"

// Batches of 2 or more (see the file comment), inputs at most 16 wide (two
// rows feed one permute; outputs at most 8 wide) and outputs of at most 64
// pixels (the tile) and 16 rows.
bool SmallFits(const ConvParams& p) { return p.N >= 2 && p.W <= 16 && p.P() <= 16 && p.P() * p.Q() <= kPixMax; }

// Everything the fill and the blocks need about the geometry.
constexpr int kMaxPairs = 2 * 9;  // (row parity, pair of plane rows): P + 1 <= 17 rows per plane

#include "conv_s2_common_avx512.inc"

struct SmallGeo : S2Geo {
  int64_t plane;    // floats per plane: (P + 1) * Q
  int64_t chan;     // floats per channel: 6 planes
  __m512i idx[3];   // tap column s: lanes [0, Q) read row A's columns 2j + s - pad_left, lanes [Q, 2Q) row B's
  __mmask16 ok[3];  // lanes of tap column s inside the input rows (the rest, and lanes from 2Q on, are zero)
  // Plane rows i and i + 1 of row parity a (input rows ih and ih + 2): per
  // pair, the two rows' offsets in a channel and load masks (zero for rows
  // in the padding), where the pair goes in the parity's first plane, and
  // the store mask (2Q lanes, or Q for a last row alone).
  int npairs;
  int32_t off_a[kMaxPairs], off_b[kMaxPairs], dst[kMaxPairs];
  __mmask16 m_a[kMaxPairs], m_b[kMaxPairs], m_store[kMaxPairs];
};

SmallGeo MakeSmallGeo(const ConvParams& p) {
  SmallGeo g;
  static_cast<S2Geo&>(g) = MakeS2Geo(p);
  g.plane = (g.P + 1) * g.Q;
  g.chan = 6 * g.plane;
  alignas(64) int32_t ix[16];
  for (int s = 0; s < 3; ++s) {
    unsigned ok = 0;
    for (int j = 0; j < 16; ++j) {
      const int64_t ow = j < g.Q ? j : j - g.Q;  // lanes [Q, 2Q): the second row's columns
      const int64_t col = 2 * ow + s - p.pad_left;
      const int64_t in_col = col < 0 ? 0 : col > 15 ? 15 : col;
      ix[j] = static_cast<int32_t>(j < g.Q ? in_col : 16 + in_col);
      if (j < 2 * g.Q && col >= 0 && col < g.W) ok |= 1u << j;
    }
    g.idx[s] = _mm512_load_si512(ix);
    g.ok[s] = static_cast<__mmask16>(ok);
  }
  const auto row_mask = [&](int64_t ih) { return static_cast<__mmask16>(ih >= 0 && ih < g.H ? (1u << g.W) - 1u : 0u); };
  g.npairs = 0;
  for (int a = 0; a < 2; ++a) {
    for (int64_t i = 0; i <= g.P; i += 2) {
      const int64_t ih = 2 * i + a - p.pad_top;  // plane row i + 1 reads ih + 2
      const int k = g.npairs++;
      g.m_a[k] = row_mask(ih);
      g.m_b[k] = row_mask(ih + 2);
      // Rows in the padding are never read (their load mask is zero).
      g.off_a[k] = static_cast<int32_t>(g.m_a[k] != 0 ? ih * g.W : 0);
      g.off_b[k] = static_cast<int32_t>(g.m_b[k] != 0 ? (ih + 2) * g.W : 0);
      g.dst[k] = static_cast<int32_t>(a * 3 * g.plane + i * g.Q);
      g.m_store[k] = static_cast<__mmask16>((1u << ((i + 1 <= g.P ? 2 : 1) * g.Q)) - 1u);
    }
  }
  return g;
}

// The six planes of Cg channels of one (image, group) input `in`: per pair
// of plane rows (input rows ih and ih + 2, each at most 16 wide), two masked
// loads and one permute and store per tap column.
void FillPlanes(const SmallGeo& g, int64_t Cg, const float* __restrict in, float* __restrict planes) {
  const int64_t plane = g.plane;
  for (int64_t c = 0; c < Cg; ++c) {
    const float* chan = in + c * g.HW;
    float* dst = planes + c * g.chan;
    for (int k = 0; k < g.npairs; ++k) {
      const __m512 ra = _mm512_maskz_loadu_ps(g.m_a[k], chan + g.off_a[k]);
      const __m512 rb = _mm512_maskz_loadu_ps(g.m_b[k], chan + g.off_b[k]);
      float* d = dst + g.dst[k];
      const __mmask16 m = g.m_store[k];
      _mm512_mask_storeu_ps(d, m, _mm512_maskz_permutex2var_ps(g.ok[0], ra, g.idx[0], rb));
      _mm512_mask_storeu_ps(d + plane, m, _mm512_maskz_permutex2var_ps(g.ok[1], ra, g.idx[1], rb));
      _mm512_mask_storeu_ps(d + 2 * plane, m, _mm512_maskz_permutex2var_ps(g.ok[2], ra, g.idx[2], rb));
    }
  }
}

// Cache lines to bring in while a task's FMAs run: its output (and
// residual) lines for the epilogue, then the next task's input (and weights,
// when its group differs) for its fill, spread over the task's channel
// steps; without it the run took about 5% longer (batch 8, 1 thread).
struct Prefetch {
  struct Range {
    const char* p;
    int64_t lines;
    bool write;
  };
  Range r[4];
  int n = 0, cur = 0;
  int64_t line = 0;
  int per_step = 0;  // lines per call of Step
  void Add(const void* p, int64_t bytes, bool write) {
    if (bytes > 0) r[n++] = Range{static_cast<const char*>(p), (bytes + 63) / 64, write};
  }
  // Spreads the ranges' lines evenly over `steps` calls of Step.
  void Plan(int64_t steps) {
    int64_t total = 0;
    for (int i = 0; i < n; ++i) total += r[i].lines;
    per_step = static_cast<int>((total + steps - 1) / (steps > 0 ? steps : 1));
  }
  inline void Step() {
    for (int k = 0; k < per_step && cur < n; ++k) {
      const char* a = r[cur].p + 64 * line;
      if (r[cur].write) {
        __builtin_prefetch(a, 1, 3);
      } else {
        _mm_prefetch(a, _MM_HINT_T1);
      }
      if (++line == r[cur].lines) line = 0, ++cur;
    }
  }
};

// One register block: pixels [p0, p0 + NP) x 32 output channels of the panel
// `w` over Cg input channels; the sums go to tile rows p0.. (32 floats each).
template <int NP>
void SmallBlock(const SmallGeo& g, int64_t Cg, const float* __restrict planes, const float* __restrict w, int64_t p0,
                float* __restrict tile, bool first, Prefetch& pf) {
  __m512 lo[NP], hi[NP];
  if (first) {
#pragma GCC unroll 14
    for (int i = 0; i < NP; ++i) lo[i] = hi[i] = _mm512_setzero_ps();
  } else {
#pragma GCC unroll 14
    for (int i = 0; i < NP; ++i) {
      lo[i] = _mm512_loadu_ps(tile + (p0 + i) * kPanel);
      hi[i] = _mm512_loadu_ps(tile + (p0 + i) * kPanel + 16);
    }
  }
  const int64_t Q = g.Q, plane = g.plane;
  for (int64_t c = 0; c < Cg; ++c) {
    const float* base = planes + c * g.chan + p0;
    const float* wc = w + c * 9 * kPanel;
    pf.Step();
#pragma GCC unroll 3
    for (int r = 0; r < 3; ++r) {
      const float* rowbase = base + (r & 1) * 3 * plane + (r >> 1) * Q;
#pragma GCC unroll 3
      for (int s = 0; s < 3; ++s) {
        const float* src = rowbase + s * plane;
        const __m512 w0 = _mm512_loadu_ps(wc + (r * 3 + s) * kPanel);
        const __m512 w1 = _mm512_loadu_ps(wc + (r * 3 + s) * kPanel + 16);
#pragma GCC unroll 14
        for (int i = 0; i < NP; ++i) {
          const __m512 x = _mm512_set1_ps(src[i]);
          lo[i] = _mm512_fmadd_ps(w0, x, lo[i]);
          hi[i] = _mm512_fmadd_ps(w1, x, hi[i]);
        }
      }
    }
  }
#pragma GCC unroll 14
  for (int i = 0; i < NP; ++i) {
    _mm512_storeu_ps(tile + (p0 + i) * kPanel, lo[i]);
    _mm512_storeu_ps(tile + (p0 + i) * kPanel + 16, hi[i]);
  }
}

using BlockFn = void (*)(const SmallGeo&, int64_t, const float*, const float*, int64_t, float*, bool, Prefetch&);
constexpr BlockFn kBlocks[kRunMax + 1] = {
    nullptr,        SmallBlock<1>,  SmallBlock<2>,  SmallBlock<3>,  SmallBlock<4>,
    SmallBlock<5>,  SmallBlock<6>,  SmallBlock<7>,  SmallBlock<8>,  SmallBlock<9>,
    SmallBlock<10>, SmallBlock<11>, SmallBlock<12>, SmallBlock<13>, SmallBlock<14>,
};

#include "transpose16_avx512.inc"

// The epilogue: the tile [PQ][32] transposed into kn output channels
// (plane stride PQ) with bias, residual and ReLU.
void StoreTile(const SmallGeo& g, const float* __restrict tile, const float* bias, const float* res, float* out, int kn,
               bool relu) {
  for (int64_t pb = 0; pb < g.PQ; pb += 16) {
    const int npix = static_cast<int>(g.PQ - pb < 16 ? g.PQ - pb : 16);
    const __mmask16 m = static_cast<__mmask16>((1u << npix) - 1u);
    for (int h = 0; h < 2 && h * 16 < kn; ++h) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(tile + (pb + i) * kPanel + h * 16);
      Transpose16(r);
      for (int c = 0; c < 16; ++c) {
        const int k = h * 16 + c;
        if (k >= kn) break;
        __m512 x = r[c];
        if (bias != nullptr) x = _mm512_add_ps(x, _mm512_set1_ps(bias[k]));
        if (res != nullptr) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, res + k * g.PQ + pb));
        if (relu) x = _mm512_max_ps(_mm512_setzero_ps(), x);
        _mm512_mask_storeu_ps(out + k * g.PQ + pb, m, x);
      }
    }
  }
}

Status SmallRun(const ConvRunArgs& a, ThreadPool& pool) {
  const ConvParams& p = *a.p;
  if (!SmallFits(p)) {
    ConvRunArgs ag = a;
    ag.packed_weights = a.packed_weights + PanelsOwnSize(p);
    return kConvGemmAvx512.run(ag, pool);
  }
  const SmallGeo g = MakeSmallGeo(p);
  const int64_t Cg = p.Cg(), Kg = p.Kg(), np = Panels(p);
  // Runs of at most kRunMax pixels, sizes within one of each other.
  const int64_t nruns = (g.PQ + kRunMax - 1) / kRunMax;
  const int64_t cb = Cg < kChanBlock ? Cg : kChanBlock;
  const int64_t planes_floats = (cb * g.chan + 15) / 16 * 16;
  const int64_t scratch_floats = planes_floats + kPixMax * kPanel;
  const bool relu = p.activation == Activation::kRelu;
  std::atomic<bool> oom{false};
  // Task = (group, image), images innermost.
  pool.Run(p.G * p.N, [&](int64_t task, int thread) {
    const int64_t n = task % p.N, grp = task / p.N;
    float* scratch = pool.Scratch(thread, scratch_floats);
    if (scratch == nullptr) {
      oom.store(true, std::memory_order_relaxed);
      return;
    }
    float* planes = scratch;
    float* tile = scratch + planes_floats;
    const float* in = a.input + (n * p.C + grp * Cg) * g.HW;
    Prefetch pf;
    const int64_t out_bytes = Kg * g.PQ * 4;
    pf.Add(a.output + (n * p.K + grp * Kg) * g.PQ, out_bytes, true);
    if (a.residual != nullptr) pf.Add(a.residual + (n * p.K + grp * Kg) * g.PQ, out_bytes, false);
    if (task + 1 < p.G * p.N) {
      const int64_t n1 = (task + 1) % p.N, g1 = (task + 1) / p.N;
      pf.Add(a.input + (n1 * p.C + g1 * Cg) * g.HW, Cg * g.HW * 4, false);
      if (g1 != grp) pf.Add(a.packed_weights + g1 * np * Cg * 9 * kPanel, np * Cg * 9 * kPanel * 4, false);
    }
    pf.Plan(np * nruns * Cg);
    for (int64_t pn = 0; pn < np; ++pn) {
      const float* w = a.packed_weights + (grp * np + pn) * Cg * 9 * kPanel;
      // Blocks of input channels: their planes and weights stay in L1 while
      // every run of pixels passes over them; the runs' sums wait in the tile.
      for (int64_t c0 = 0; c0 < Cg; c0 += cb) {
        const int64_t c1 = c0 + cb < Cg ? c0 + cb : Cg;
        FillPlanes(g, c1 - c0, in + c0 * g.HW, planes);
        for (int64_t run = 0; run < nruns; ++run) {
          const int64_t p0 = run * g.PQ / nruns, p1 = (run + 1) * g.PQ / nruns;
          kBlocks[p1 - p0](g, c1 - c0, planes, w + c0 * 9 * kPanel, p0, tile, c0 == 0, pf);
        }
      }
      const int64_t k0 = grp * Kg + pn * kPanel;
      const int kn = static_cast<int>(Kg - pn * kPanel < kPanel ? Kg - pn * kPanel : kPanel);
      const float* bias = a.bias != nullptr ? a.bias + k0 : nullptr;
      const float* res = a.residual != nullptr ? a.residual + (n * p.K + k0) * g.PQ : nullptr;
      StoreTile(g, tile, bias, res, a.output + (n * p.K + k0) * g.PQ, kn, relu);
    }
  });
  if (oom.load()) return Status::OutOfMemory("grouped3x3s2_small: out of memory for the per-thread planes");
  return Status::Ok();
}

}  // namespace

extern const ConvImpl kConvGroupedS2SmallAvx512 = {
    "grouped3x3s2_small_avx512", 81, Isa::kAvx512, SmallUnsupported, PanelsPackedSize, PanelsPack, SmallRun,
    /*transformed=*/false,
    /*per_run=*/
    "direct, output channels in the lanes, for batches of 2 or more with inputs at most 16 wide and outputs of at "
    "most 64 pixels; batch 1 and other sizes run gemm_avx512"};
}  // namespace resnext
#pragma GCC pop_options
