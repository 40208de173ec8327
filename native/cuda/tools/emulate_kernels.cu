// Host emulation of the grouped-conv kernels' per-thread bodies: runs every
// (thread, tile) of GroupedDirectThread and GroupedVec4Thread on the CPU, and
// plays the 32 lanes of each warp of the tensor-core kernels (grouped_mma, and
// grouped_mma_pipe's 128-thread blocks with their cp.async copies applied only
// when the pipeline waits for them) with mma.sync emulated from PTX's
// documented fragment layout, in float32,
// float16 and bfloat16, over a battery of shapes and options, and
// compares with a float64 reference. It checks the kernels' indexing, packing
// and epilogue without a GPU (CI has none); timing and the GPU-only parts
// (vector loads' alignment, launch configuration, transposes) are left to the
// GPU tests. The layout kernels (NCHW <-> NHWC transposes through a shared
// tile, the zero-padded copy) are emulated too, phase by phase around their
// barrier. The model ops' bodies (max pool with NaN propagation, global
// average pool, the linear layer with its warp's lanes summed as the shuffle
// reduction does) are checked the same way. Exit status 0 when every case passes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/conv_grouped.h"
#include "cuda/conv_grouped_direct.cuh"
#include "cuda/conv_grouped_mma.cuh"
#include "cuda/conv_grouped_mma_pipe.cuh"
#include "cuda/conv_grouped_vec4.cuh"
#include "cuda/convert_body.cuh"
#include "cuda/model_ops.cuh"

using namespace resnext;
using namespace resnext::cuda;

namespace {

struct Case {
  int N, C, H, W, K, R, S, G, sh, sw, dh, dw, pt, pl, pb, pr;
  bool bias, residual, relu;
};

double Reference(const ConvParams& p, const std::vector<float>& x, const std::vector<float>& w,
                 const std::vector<float>& b, const std::vector<float>& res, int64_t n, int64_t k, int64_t oh,
                 int64_t ow) {
  const int64_t g = k / p.Kg(), Cg = p.Cg();
  double acc = 0;
  for (int64_t c = 0; c < Cg; c++)
    for (int64_t r = 0; r < p.R; r++)
      for (int64_t s = 0; s < p.S; s++) {
        const int64_t h = oh * p.stride_h - p.pad_top + r * p.dil_h, wc = ow * p.stride_w - p.pad_left + s * p.dil_w;
        if (h < 0 || h >= p.H || wc < 0 || wc >= p.W) continue;
        acc += double(x[((n * p.C + g * Cg + c) * p.H + h) * p.W + wc]) * double(w[((k * Cg + c) * p.R + r) * p.S + s]);
      }
  if (!b.empty()) acc += b[k];
  if (!res.empty()) acc += res[((n * p.K + k) * p.P() + oh) * p.Q() + ow];
  if (p.activation == Activation::kRelu && acc < 0) acc = 0;
  return acc;
}

enum class Kernel { kDirect, kVec4, kMma, kMmaPipe };

template <typename T>
float Half(uint32_t reg, int e) {
  T v[2];
  std::memcpy(v, &reg, 4);
  return ToFloat(v[e]);
}

// mma.sync.m16n8k16 over one warp's registers, by the PTX fragment layout.
template <typename T>
void EmulateMma(float acc[32][4], const uint32_t a[32][4], const uint32_t b[32][2]) {
  float A[16][16], B[16][8];
  for (int lane = 0; lane < 32; lane++) {
    const int gid = lane / 4, tig = lane % 4;
    for (int e = 0; e < 2; e++) {
      A[gid][2 * tig + e] = Half<T>(a[lane][0], e);
      A[gid + 8][2 * tig + e] = Half<T>(a[lane][1], e);
      A[gid][2 * tig + 8 + e] = Half<T>(a[lane][2], e);
      A[gid + 8][2 * tig + 8 + e] = Half<T>(a[lane][3], e);
      B[2 * tig + e][gid] = Half<T>(b[lane][0], e);
      B[2 * tig + 8 + e][gid] = Half<T>(b[lane][1], e);
    }
  }
  for (int lane = 0; lane < 32; lane++) {
    const int gid = lane / 4, tig = lane % 4;
    for (int e = 0; e < 2; e++)
      for (int k = 0; k < 16; k++) {
        acc[lane][e] += A[gid][k] * B[k][2 * tig + e];
        acc[lane][2 + e] += A[gid + 8][k] * B[k][2 * tig + e];
      }
  }
}

// One warp of GroupedMmaKernel (conv_grouped_mma.cu), lane by lane, composed
// from the same pieces in the same order.
template <typename T>
void EmulateMmaWarp(const ConvDims& d, int64_t tile, int g, const T* x, const T* w, const float* bias,
                    const T* residual, T* y) {
  MmaPixels px[32];
  const int NT = d.Kg / 8;
  std::vector<float> acc(static_cast<size_t>(NT) * 32 * 4, 0.f);
  for (int lane = 0; lane < 32; lane++) px[lane] = MmaLanePixels(d, tile, lane);
  for (int r = 0; r < d.R; r++)
    for (int s = 0; s < d.S; s++)
      for (int c = 0; c < d.Cg; c += 16) {
        uint32_t a[32][4];
        for (int lane = 0; lane < 32; lane++)
          MmaLoadA(MmaInputRow(d, px[lane], 0, r, s, g, x), MmaInputRow(d, px[lane], 1, r, s, g, x), c, lane, a[lane]);
        for (int j = 0; j < NT; j++) {
          uint32_t b[32][2];
          for (int lane = 0; lane < 32; lane++) MmaLoadB(d, w, g, r, s, j, c, lane, b[lane]);
          EmulateMma<T>(reinterpret_cast<float(*)[4]>(&acc[static_cast<size_t>(j) * 128]), a, b);
        }
      }
  for (int j = 0; j < NT; j++)
    for (int lane = 0; lane < 32; lane++)
      MmaStore(d, px[lane], tile, g, j, lane, &acc[static_cast<size_t>(j) * 128 + lane * 4], bias, residual, y);
}

// One thread block of GroupedMmaPipeKernel (conv_grouped_mma_pipe.cu): the
// same main loop, with cp.async played as copies that land in shared memory
// only when Wait() retires their group (so a stage read before its wait, or
// refilled while still in use, shows stale data), every copy bounds-checked,
// and each warp's mma played lane by lane.
template <typename T, int CG, int KG>
struct EmuPipeExec {
  using S = PipeShape<CG, KG>;
  const ConvDims& d;
  PipeBlock b;
  const T* x;
  int64_t x_size;
  const T* w;
  int64_t w_size;
  std::vector<T> smem = std::vector<T>(static_cast<size_t>(S::kStages) * S::kStageElems, FromFloat<T>(NAN));
  std::vector<std::vector<PipeCopy>> pending;  // committed groups, oldest first
  std::vector<PipeCopy> open;
  std::vector<float> acc = std::vector<float>(static_cast<size_t>(S::kWarps) * S::kGW * S::kNT * 128, 0.f);
  bool out_of_bounds = false;

  void Issue(int it) {
    for (int tid = 0; tid < S::kThreads; tid++)
      for (int i = tid; i < PipeCopyCount<CG, KG>(); i += S::kThreads) open.push_back(PipeCopyAt<CG, KG>(d, b, it, i));
  }
  void Commit() {
    pending.push_back(open);
    open.clear();
  }
  void Wait() {
    while (pending.size() > static_cast<size_t>(S::kStages - 2)) {
      for (const PipeCopy& c : pending.front()) {
        if (c.dst < 0 || c.dst + 8 > static_cast<int>(smem.size())) {
          out_of_bounds = true;
          continue;
        }
        if (!c.valid) {
          for (int e = 0; e < 8; e++) smem[c.dst + e] = FromFloat<T>(0.f);
          continue;
        }
        const T* src = c.from_w ? w : x;
        if (c.src < 0 || c.src + 8 > (c.from_w ? w_size : x_size)) {
          out_of_bounds = true;
          continue;
        }
        std::memcpy(&smem[c.dst], src + c.src, 16);
      }
      pending.erase(pending.begin());
    }
  }
  void Compute(int buffer) {
    for (int warp = 0; warp < S::kWarps; warp++) {
      uint32_t a[32][4];
      PipeWarpSteps<CG, KG>(
          warp,
          [&](int gl, int kc) {
            for (int lane = 0; lane < 32; lane++) PipeFragA<CG, KG>(smem.data(), buffer, warp, lane, gl, kc, a[lane]);
          },
          [&](int i, int gl, int kc, int j) {
            uint32_t bf[32][2];
            for (int lane = 0; lane < 32; lane++) PipeFragB<CG, KG>(smem.data(), buffer, lane, gl, kc, j, bf[lane]);
            EmulateMma<T>(reinterpret_cast<float(*)[4]>(&acc[Acc(warp, i, j)]), a, bf);
          });
    }
  }
  static size_t Acc(int warp, int i, int j) { return ((static_cast<size_t>(warp) * S::kGW + i) * S::kNT + j) * 128; }
};

// Every block of grouped_mma_pipe over NHWC x, GRSKC-packed w; false if a copy went out of bounds.
template <typename T, int CG, int KG>
bool EmulateMmaPipeT(const ConvDims& d, const std::vector<T>& x, const std::vector<T>& w, const float* bias,
                     const T* residual, T* y) {
  using S = PipeShape<CG, KG>;
  const int64_t blocks = (int64_t(d.N) * d.P * d.Q + S::kBM - 1) / S::kBM * (d.G() / S::kGB);
  bool ok = true;
  for (int64_t block = 0; block < blocks; block++) {
    EmuPipeExec<T, CG, KG> ex{d,        PipeBlockAt<CG, KG>(d, block), x.data(), static_cast<int64_t>(x.size()),
                              w.data(), static_cast<int64_t>(w.size())};
    PipeMainloop<CG, KG>(d, ex);
    if (ex.out_of_bounds) ok = false;
    for (int warp = 0; warp < S::kWarps; warp++)
      for (int i = 0; i < S::kGW; i++)
        for (int j = 0; j < S::kNT; j++)
          for (int lane = 0; lane < 32; lane++)
            PipeStore<CG, KG>(d, ex.b, warp, lane, PipeWarpGroup<CG, KG>(warp, i), j,
                              &ex.acc[EmuPipeExec<T, CG, KG>::Acc(warp, i, j) + lane * 4], bias, residual, y);
  }
  return ok;
}

template <typename T>
bool EmulateMmaPipe(const ConvDims& d, const std::vector<T>& x, const std::vector<T>& w, const float* bias,
                    const T* residual, T* y) {
  switch (d.Cg) {
    case 4:
      return EmulateMmaPipeT<T, 4, 4>(d, x, w, bias, residual, y);
    case 8:
      return EmulateMmaPipeT<T, 8, 8>(d, x, w, bias, residual, y);
    case 16:
      return EmulateMmaPipeT<T, 16, 16>(d, x, w, bias, residual, y);
    case 32:
      return EmulateMmaPipeT<T, 32, 32>(d, x, w, bias, residual, y);
    default:
      return EmulateMmaPipeT<T, 64, 64>(d, x, w, bias, residual, y);
  }
}

// nan_input: every 37th input element is NaN; the outputs whose window
// reads one must be NaN (after ReLU too) and only those.
template <typename T>
double RunCase(const Case& t, Kernel kernel, std::mt19937* rng, bool nan_input = false) {
  ConvParams p;
  p.N = t.N, p.C = t.C, p.H = t.H, p.W = t.W, p.K = t.K, p.R = t.R, p.S = t.S, p.G = t.G;
  p.stride_h = t.sh, p.stride_w = t.sw, p.dil_h = t.dh, p.dil_w = t.dw;
  p.pad_top = t.pt, p.pad_left = t.pl, p.pad_bottom = t.pb, p.pad_right = t.pr;
  p.activation = t.relu ? Activation::kRelu : Activation::kNone;
  std::normal_distribution<float> nd;
  auto fill = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& e : v) e = ToFloat(FromFloat<T>(nd(*rng)));
    return v;
  };
  // Inputs are drawn already rounded to T, so the reference sees what the kernel sees.
  std::vector<float> x = fill(p.InputSize()), w = fill(p.WeightSize());
  if (nan_input)
    for (size_t i = 5; i < x.size(); i += 37) x[i] = NAN;
  std::vector<float> b = t.bias ? fill(p.K) : std::vector<float>();
  std::vector<float> res = t.residual ? fill(p.OutputSize()) : std::vector<float>();
  const int64_t P = p.P(), Q = p.Q(), HW = p.H * p.W;

  // The output starts as NaN, so an element no thread writes fails the case.
  std::vector<T> xh(x.size()), wt(w.size()), rh(res.size()), yh(static_cast<size_t>(p.OutputSize()), FromFloat<T>(NAN));
  for (int64_t n = 0; n < p.N; n++)
    for (int64_t c = 0; c < p.C; c++)
      for (int64_t i = 0; i < HW; i++) xh[(n * HW + i) * p.C + c] = FromFloat<T>(x[(n * p.C + c) * HW + i]);
  std::vector<float> packed(w.size());
  if (kernel == Kernel::kMma || kernel == Kernel::kMmaPipe)
    PackWeightsGRSKC(w.data(), p, packed.data());
  else
    PackWeightsRSCK(w.data(), p, packed.data());
  for (size_t i = 0; i < packed.size(); i++) wt[i] = FromFloat<T>(packed[i]);
  for (int64_t n = 0; n < p.N; n++)
    for (int64_t k = 0; k < p.K; k++)
      for (int64_t i = 0; i < P * Q; i++)
        if (!res.empty()) rh[(n * P * Q + i) * p.K + k] = FromFloat<T>(res[(n * p.K + k) * P * Q + i]);

  const ConvDims d = MakeConvDims(p);
  constexpr int kTQ = 4;
  const int64_t tiles = int64_t(d.N) * d.P * ((d.Q + kTQ - 1) / kTQ);
  const float* bp = b.empty() ? nullptr : b.data();
  const T* rp = rh.empty() ? nullptr : rh.data();
  if (kernel == Kernel::kMma) {
    const int64_t mtiles = (int64_t(d.N) * d.P * d.Q + 15) / 16;
    for (int64_t tile = 0; tile < mtiles; tile++)
      for (int g = 0; g < d.G(); g++) EmulateMmaWarp<T>(d, tile, g, xh.data(), wt.data(), bp, rp, yh.data());
  }
  if constexpr (!std::is_same<T, float>::value) {
    if (kernel == Kernel::kMmaPipe && !EmulateMmaPipe<T>(d, xh, wt, bp, rp, yh.data())) return INFINITY;
  }
  // One extra tile and channel block past the end: the bodies must ignore them.
  for (int64_t tile = 0; kernel != Kernel::kMma && kernel != Kernel::kMmaPipe && tile < tiles + 1; tile++) {
    if (kernel == Kernel::kVec4) {
      for (int k4 = 0; k4 < d.K / 4 + 1; k4++)
        GroupedVec4Thread<T, kTQ>(d, k4, tile, xh.data(), wt.data(), b.empty() ? nullptr : b.data(),
                                  rh.empty() ? nullptr : rh.data(), yh.data());
    } else {
      for (int k = 0; k < d.K + 1; k++)
        GroupedDirectThread<T, kTQ>(d, k, tile, xh.data(), wt.data(), b.empty() ? nullptr : b.data(),
                                    rh.empty() ? nullptr : rh.data(), yh.data());
    }
  }
  double max_diff = 0, max_ref = 0;
  for (int64_t n = 0; n < p.N; n++)
    for (int64_t k = 0; k < p.K; k++)
      for (int64_t oh = 0; oh < P; oh++)
        for (int64_t ow = 0; ow < Q; ow++) {
          const double ref = Reference(p, x, w, b, res, n, k, oh, ow);
          const double got = ToFloat(yh[((n * P + oh) * Q + ow) * p.K + k]);
          if (std::isnan(got) != std::isnan(ref)) return INFINITY;
          if (std::isnan(ref)) continue;
          max_diff = std::fmax(max_diff, std::fabs(got - ref));
          max_ref = std::fmax(max_ref, std::fabs(ref));
        }
  return max_diff / std::fmax(max_ref, 1e-30);
}

// grouped_mma_pipe's epilogue keeps NaN through bias and ReLU: one NaN input
// element must make exactly the outputs whose window reads it NaN (its group's
// K/G channels at the 3x3 pixels around it), and negative sums become 0.
template <typename T>
int CheckPipeNan(std::mt19937* rng, const char* tname) {
  ConvDims d{};
  d.N = 8, d.C = 64, d.H = 5, d.W = 5, d.K = 64, d.R = 3, d.S = 3, d.Cg = 4, d.Kg = 4, d.P = 5, d.Q = 5;
  d.sh = d.sw = d.dh = d.dw = 1, d.pt = d.pl = 1, d.relu = 1, d.groups = 16;
  std::normal_distribution<float> nd;
  std::vector<T> x(static_cast<size_t>(d.N) * d.H * d.W * d.C), w(static_cast<size_t>(d.K) * d.Cg * 9);
  std::vector<T> y(static_cast<size_t>(d.N) * d.P * d.Q * d.K, FromFloat<T>(-1.f));
  std::vector<float> bias(d.K);
  for (auto& e : x) e = FromFloat<T>(nd(*rng));
  for (auto& e : w) e = FromFloat<T>(nd(*rng));
  for (auto& e : bias) e = nd(*rng);
  const int n0 = 3, h0 = 2, w0 = 2, c0 = 5;  // group 1
  x[((n0 * d.H + h0) * d.W + w0) * d.C + c0] = FromFloat<T>(NAN);
  bool ok = EmulateMmaPipe<T>(d, x, w, bias.data(), nullptr, y.data());
  int nans = 0, zeros = 0;
  for (int n = 0; n < d.N; n++)
    for (int p = 0; p < d.P; p++)
      for (int q = 0; q < d.Q; q++)
        for (int k = 0; k < d.K; k++) {
          const float v = ToFloat(y[((n * d.P + p) * d.Q + q) * d.K + k]);
          const bool want_nan = n == n0 && std::abs(p - h0) <= 1 && std::abs(q - w0) <= 1 && k / d.Kg == c0 / d.Cg;
          if (std::isnan(v)) nans++;
          if (v == 0.f) zeros++;
          if (std::isnan(v) != want_nan || v < 0.f) ok = false;
        }
  if (nans != 9 * d.Kg || zeros == 0) ok = false;
  std::printf("%s grouped_mma_pipe NaN through bias+relu x=[8,64,5,5] g=16 %s: %d NaN outputs (want %d), %d zeros\n",
              ok ? "ok  " : "FAIL", tname, nans, 9 * d.Kg, zeros);
  return ok ? 0 : 1;
}

// Emulates convert.cu's TransposeKernel over a [N][rows][cols] array.
template <typename TI, typename TO>
void EmulateTranspose(const std::vector<TI>& src, std::vector<TO>* dst, int64_t N, int64_t rows, int64_t cols) {
  const int threads_y = 8;
  float tile[kTile][kTile + 1];
  for (int64_t n = 0; n < N; n++)
    for (int64_t br = 0; br < (rows + kTile - 1) / kTile; br++)
      for (int64_t bc = 0; bc < (cols + kTile - 1) / kTile; bc++) {
        const TI* s = src.data() + n * rows * cols;
        TO* d = dst->data() + n * rows * cols;
        for (int ty = 0; ty < threads_y; ty++)
          for (int tx = 0; tx < kTile; tx++)
            TransposeLoad(s, tile, rows, cols, br * kTile, bc * kTile, tx, ty, threads_y);
        for (int ty = 0; ty < threads_y; ty++)
          for (int tx = 0; tx < kTile; tx++)
            TransposeStore(d, tile, rows, cols, br * kTile, bc * kTile, tx, ty, threads_y);
      }
}

// NCHW -> NHWC (float32 -> float16) -> NCHW (float32) and the padded copy, against index formulas.
int CheckLayouts(std::mt19937* rng) {
  int failures = 0;
  std::normal_distribution<float> nd;
  const int64_t shapes[][4] = {{1, 3, 5, 7}, {2, 40, 33, 3}, {3, 64, 1, 1}, {1, 1, 37, 35}, {2, 129, 6, 6}};
  for (const auto& sh : shapes) {
    const int64_t N = sh[0], C = sh[1], H = sh[2], W = sh[3], HW = H * W;
    std::vector<float> x(static_cast<size_t>(N * C * HW));
    for (auto& e : x) e = nd(*rng);
    std::vector<__half> nhwc(x.size());
    EmulateTranspose(x, &nhwc, N, C, HW);  // NchwToNhwc: rows = C, cols = HW
    std::vector<float> back(x.size());
    EmulateTranspose(nhwc, &back, N, HW, C);  // NhwcToNchw: rows = HW, cols = C
    bool ok = true;
    for (int64_t n = 0; n < N; n++)
      for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < HW; i++) {
          const float want = ToFloat(FromFloat<__half>(x[(n * C + c) * HW + i]));
          if (ToFloat(nhwc[(n * HW + i) * C + c]) != want || back[(n * C + c) * HW + i] != want) ok = false;
        }
    const int64_t top = 2, left = 1, bottom = 0, right = 3, Hp = H + top + bottom, Wp = W + left + right;
    std::vector<float> src(x.size()), pad(static_cast<size_t>(N * Hp * Wp * C));
    for (size_t i = 0; i < src.size(); i++) src[i] = x[i];
    for (int64_t i = 0; i < static_cast<int64_t>(pad.size()); i++)
      PadNhwcElement(src.data(), pad.data(), i, H, W, C, top, left, Hp, Wp);
    for (int64_t n = 0; n < N; n++)
      for (int64_t h = 0; h < Hp; h++)
        for (int64_t w = 0; w < Wp; w++)
          for (int64_t c = 0; c < C; c++) {
            const int64_t ih = h - top, iw = w - left;
            const float want = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? src[((n * H + ih) * W + iw) * C + c] : 0.f;
            if (pad[((n * Hp + h) * Wp + w) * C + c] != want) ok = false;
          }
    std::printf("%s layouts [%lld,%lld,%lld,%lld]: NCHW->NHWC(f16)->NCHW and padded copy\n", ok ? "ok  " : "FAIL",
                (long long)N, (long long)C, (long long)H, (long long)W);
    if (!ok) failures++;
  }
  return failures;
}

// The model ops (model_ops.cuh) over every output, float32 and float16, vs
// float64 on values exact in the storage type.
template <typename T>
int CheckModelOpsT(std::mt19937* rng, const char* tname, double tol) {
  int failures = 0;
  std::uniform_int_distribution<int> q(-64, 64);
  auto fill = [&](std::vector<T>* v, std::vector<double>* d, size_t n) {
    v->resize(n);
    d->resize(n);
    for (size_t i = 0; i < n; i++) {
      (*d)[i] = q(*rng) / 32.0;
      (*v)[i] = FromFloat<T>(static_cast<float>((*d)[i]));
    }
  };
  {  // max pool 3x3/2 pad 1 on [2, 5, 9, 7] NHWC, one NaN planted
    PoolDims d;
    d.N = 2, d.C = 5, d.H = 9, d.W = 7;
    d.P = (d.H + 2 - 3) / 2 + 1, d.Q = (d.W + 2 - 3) / 2 + 1;
    std::vector<T> x;
    std::vector<double> xd;
    fill(&x, &xd, d.N * d.H * d.W * d.C);
    const int64_t nan_at = ((1 * d.H + 4) * d.W + 3) * d.C + 2;  // n=1, h=4, w=3, c=2
    x[nan_at] = FromFloat<T>(NAN);
    xd[nan_at] = NAN;
    bool ok = true;
    int nans = 0;
    for (int64_t i = 0; i < d.N * d.P * d.Q * d.C; i++) {
      const int64_t c = i % d.C, qq = (i / d.C) % d.Q, p = (i / d.C / d.Q) % d.P, n = i / d.C / d.Q / d.P;
      double want = -INFINITY;
      bool nan = false;
      for (int r = 0; r < 3; r++)
        for (int s2 = 0; s2 < 3; s2++) {
          const int64_t h = p * 2 - 1 + r, w = qq * 2 - 1 + s2;
          if (h < 0 || h >= d.H || w < 0 || w >= d.W) continue;
          const double v = xd[((n * d.H + h) * d.W + w) * d.C + c];
          if (std::isnan(v))
            nan = true;
          else
            want = std::max(want, v);
        }
      const float got = MaxPoolAt(d, x.data(), i);
      if (nan) {
        nans++;
        if (!std::isnan(got)) ok = false;
      } else if (got != want) {
        ok = false;
      }
    }
    if (nans == 0) ok = false;
    std::printf("%s model_ops max_pool 3x3/2 pad 1 x=[2,5,9,7] %s (%d windows see the NaN)\n", ok ? "ok  " : "FAIL",
                tname, nans);
    if (!ok) failures++;
  }
  {  // global average pool [3, 6, 5, 4]: N, C, H, W
    const int64_t N = 3, C = 6, HW = 20;
    std::vector<T> x;
    std::vector<double> xd;
    fill(&x, &xd, N * HW * C);
    double err = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t c = 0; c < C; c++) {
        double want = 0;
        for (int64_t i = 0; i < HW; i++) want += xd[(n * HW + i) * C + c];
        want /= HW;
        err = std::max(err, std::fabs(ToFloat(FromFloat<T>(AvgPoolAt(HW, C, x.data(), n, c))) - want));
      }
    const bool ok = err <= tol;
    std::printf("%s model_ops global_avg_pool x=[3,6,5,4] %s: max abs err %.1e\n", ok ? "ok  " : "FAIL", tname, err);
    if (!ok) failures++;
  }
  {  // linear x [11, 70] -> [11, 9]: a full row tile and a partial one, C not a multiple of 32
    const int64_t N = 11, C = 70, M = 9;
    std::vector<T> x;
    std::vector<double> xd;
    fill(&x, &xd, N * C);
    std::vector<float> w(M * C), b(M);
    std::vector<double> wd(M * C);
    for (int64_t i = 0; i < M * C; i++) wd[i] = w[i] = q(*rng) / 64.f;
    for (int64_t m = 0; m < M; m++) b[m] = q(*rng) / 8.f;
    double err = 0;
    for (int64_t m = 0; m < M; m++)
      for (int64_t n0 = 0; n0 < N; n0 += kLinearRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kLinearRows, N - n0));
        float sum[kLinearRows] = {};
        for (int lane = 0; lane < 32; lane++) {
          float acc[kLinearRows];
          LinearLane(C, x.data(), w.data(), m, n0, rows, lane, 32, acc);
          for (int j = 0; j < kLinearRows; j++) sum[j] += acc[j];
        }
        for (int j = 0; j < rows; j++) {
          double want = b[m];
          for (int64_t c = 0; c < C; c++) want += xd[(n0 + j) * C + c] * wd[m * C + c];
          err = std::max(err, std::fabs(ToFloat(FromFloat<T>(sum[j] + b[m])) - want) / (1.0 + std::fabs(want)));
        }
      }
    const bool ok = err <= tol;
    std::printf("%s model_ops linear x=[11,70] w=[9,70] %s: max rel err %.1e\n", ok ? "ok  " : "FAIL", tname, err);
    if (!ok) failures++;
  }
  return failures;
}

int CheckModelOps(std::mt19937* rng) {
  return CheckModelOpsT<float>(rng, "float32", 1e-5) + CheckModelOpsT<__half>(rng, "float16", 2e-3);
}

}  // namespace

int main() {
  // N C H W K R S G | sh sw dh dw | pt pl pb pr | bias residual relu
  const std::vector<Case> cases = {
      {1, 17, 9, 11, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false, false, false},
      {5, 18, 9, 7, 21, 3, 3, 3, 2, 2, 2, 2, 1, 2, 0, 1, true, true, true},
      {2, 17, 10, 13, 17, 3, 3, 17, 1, 1, 1, 1, 1, 1, 1, 1, true, false, true},
      {1, 128, 10, 9, 128, 3, 3, 32, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true},
      {2, 256, 9, 9, 256, 3, 3, 32, 2, 2, 1, 1, 1, 1, 1, 1, false, true, false},
      {1, 64, 7, 7, 64, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 1, true, false, false},
      {3, 64, 7, 9, 300, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, true, false, true},
      {1, 3, 23, 19, 8, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3, false, false, false},
      {2, 12, 11, 14, 12, 5, 5, 2, 1, 1, 2, 2, 4, 3, 2, 1, true, true, false},
      {1, 8, 9, 5, 4, 3, 5, 4, 2, 1, 1, 2, 1, 4, 1, 4, false, false, true},
      {1, 32, 6, 5, 64, 3, 3, 4, 1, 2, 2, 1, 2, 1, 0, 3, true, true, true},
      {1, 16, 1, 1, 8, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, false, false},
      {2, 48, 5, 5, 96, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true},
      // Tensor-core shapes: 16 and 32 channels per group (ResNeXt-50 stages 3 and 4), K/G 8..64, odd pixel counts.
      {1, 512, 7, 7, 512, 3, 3, 32, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true},
      {2, 256, 5, 6, 256, 3, 3, 8, 2, 2, 1, 1, 1, 1, 1, 1, true, false, true},
      {1, 64, 9, 9, 128, 3, 3, 2, 1, 1, 2, 2, 2, 2, 2, 2, false, true, false},
      {1, 16, 4, 4, 8, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, false, false},
      // The batch >= 8 tensor-core path (grouped_mma_pipe): 4 to 64 channels per group, pixel counts that leave
      // partial blocks, 5x3 and 1x1 filters (tap counts that are not a multiple of the taps per stage), strides,
      // dilations and asymmetric padding.
      {9, 128, 7, 5, 128, 3, 3, 32, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true},
      {8, 128, 5, 6, 128, 3, 3, 16, 2, 2, 1, 1, 1, 1, 1, 1, true, false, true},
      {8, 64, 6, 7, 64, 3, 3, 4, 1, 1, 2, 2, 2, 2, 2, 2, false, true, false},
      {9, 128, 5, 5, 128, 3, 3, 4, 1, 1, 1, 1, 1, 0, 2, 1, true, true, true},
      {8, 128, 4, 3, 128, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, true, true, true},
      {8, 64, 7, 6, 64, 5, 3, 16, 1, 2, 1, 1, 2, 1, 2, 1, true, false, true},
      {10, 128, 3, 5, 128, 1, 1, 16, 1, 1, 1, 1, 0, 0, 0, 0, false, true, true},
  };
  std::mt19937 rng(1234);
  int runs = 0, failures = 0;
  for (size_t i = 0; i < cases.size(); i++) {
    const Case& t = cases[i];
    const bool vec4_ok = (t.C / t.G) % 4 == 0 && (t.K / t.G) % 4 == 0;
    const bool mma_ok = (t.C / t.G) % 16 == 0 && (t.K / t.G) % 8 == 0 && t.K / t.G <= 64;
    const int cg = t.C / t.G;
    const bool pipe_ok = t.C % t.G == 0 && cg == t.K / t.G &&
                         (cg == 4 || cg == 8 || cg == 16 || cg == 32 || cg == 64) && t.G % (64 / cg) == 0;
    for (Kernel kernel : {Kernel::kDirect, Kernel::kVec4, Kernel::kMma, Kernel::kMmaPipe}) {
      if ((kernel == Kernel::kVec4 && !vec4_ok) || (kernel == Kernel::kMma && !mma_ok) ||
          (kernel == Kernel::kMmaPipe && !pipe_ok))
        continue;
      const bool half_only = kernel == Kernel::kMma || kernel == Kernel::kMmaPipe;
      // The tensor-core kernels are float16/bfloat16 only.
      const double e32 = half_only ? 0.0 : RunCase<float>(t, kernel, &rng);
      const double e16 = RunCase<__half>(t, kernel, &rng);
      const double eb16 = RunCase<__nv_bfloat16>(t, kernel, &rng);
      // float16/bfloat16: inputs are exact in T, the error is the output's rounding.
      const bool ok = e32 <= 1e-5 && e16 <= 1e-3 && eb16 <= 8e-3;
      runs += half_only ? 2 : 3;
      if (!ok) failures++;
      const char* name = kernel == Kernel::kMmaPipe ? "grouped_mma_pipe"
                         : kernel == Kernel::kMma   ? "grouped_mma"
                         : kernel == Kernel::kVec4  ? "grouped_vec4"
                                                    : "grouped_direct";
      char f32[32] = "n/a";
      if (!half_only) std::snprintf(f32, sizeof f32, "%.1e", e32);
      std::printf("%s case %zu x=[%d,%d,%d,%d] w=[%d,%d,%d,%d] g=%d %s: relErr f32 %s f16 %.1e bf16 %.1e\n",
                  ok ? "ok  " : "FAIL", i, t.N, t.C, t.H, t.W, t.K, t.C / t.G, t.R, t.S, t.G, name, f32, e16, eb16);
    }
  }
  failures += CheckPipeNan<__half>(&rng, "float16") + CheckPipeNan<__nv_bfloat16>(&rng, "bfloat16");
  runs += 2;
  // NaN inputs through every kernel with the ReLU epilogue: NaN must survive it.
  for (size_t i = 0; i < cases.size(); i++) {
    Case t = cases[i];
    t.relu = true;
    const bool vec4_ok = (t.C / t.G) % 4 == 0 && (t.K / t.G) % 4 == 0;
    const bool mma_ok = (t.C / t.G) % 16 == 0 && (t.K / t.G) % 8 == 0 && t.K / t.G <= 64;
    for (Kernel kernel : {Kernel::kDirect, Kernel::kVec4, Kernel::kMma}) {
      if ((kernel == Kernel::kVec4 && !vec4_ok) || (kernel == Kernel::kMma && !mma_ok)) continue;
      const double e32 = kernel == Kernel::kMma ? 0.0 : RunCase<float>(t, kernel, &rng, true);
      const double e16 = RunCase<__half>(t, kernel, &rng, true);
      const bool ok = e32 <= 1e-5 && e16 <= 1e-3;
      runs += kernel == Kernel::kMma ? 1 : 2;
      if (!ok) failures++;
      const char* name = kernel == Kernel::kMma    ? "grouped_mma"
                         : kernel == Kernel::kVec4 ? "grouped_vec4"
                                                   : "grouped_direct";
      std::printf("%s nan case %zu %s relu: NaN outputs exactly where the reference has them\n", ok ? "ok  " : "FAIL",
                  i, name);
    }
  }
  const int layout_failures = CheckLayouts(&rng);
  failures += layout_failures;
  runs += 5;
  failures += CheckModelOps(&rng);
  runs += 6;
  std::printf("emulate_kernels: %d kernel runs, %d failed\n", runs, failures);
  return failures == 0 ? 0 : 1;
}
