// Max pooling over NCHW planes (see resnext/max_pool2d.h). Max is separable,
// so each output row is pooled in two passes through a per-thread scratch
// row of W floats: first down the columns (the kh input rows of the window,
// clipped: a contiguous element-wise max the compiler vectorises), then
// along that one row (window kw, stride sw). Doing the vertical pass first
// means the strided horizontal pass runs on P rows instead of H (half as
// many for the stem's 3x3 stride-2 pool) and the wide pass is the
// vectorisable one: kw + kh comparisons per output instead of kw * kh.
// One task per block of planes. Padding never wins: windows are clipped to
// the input (torch's -inf padding).
#include "resnext/max_pool2d.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <limits>
#include <string>

#include "resnext/cpu_features.h"

namespace resnext {

// The 3x3 stride-2 pad-1 plane kernel (max_pool3x3s2_avx512.cc).
int64_t MaxPool3x3s2ScratchFloats(int64_t W);
void MaxPool3x3s2PlaneAvx512(const MaxPool2dParams& p, const float* x, float* y, float* scratch);

namespace {

// NaN-propagating max, as torch: once a NaN is seen it stays. Written so the
// compiler emits compare + blend, not a branch (on random data a branch here
// mispredicts often enough to cost 4x).
inline float Max(float m, float v) { return (v > m || v != v) ? v : m; }

// Columns per phase of a row split by stride: phase r holds w = j * sw + r.
inline int64_t PhaseLength(const MaxPool2dParams& p) { return (p.W + p.sw - 1) / p.sw; }

// Scratch floats per thread: the column maxima of one output row, then the same split into sw phases.
int64_t ScratchFloats(const MaxPool2dParams& p) { return p.W + p.sw * PhaseLength(p); }

// Cloned per ISA (GCC function multiversioning, picked once by the loader from
// CPUID): the same loops vectorise to 16 lanes with AVX-512, 8 with AVX2.
__attribute__((target_clones("avx512f", "avx2", "default"))) void PoolPlane(const MaxPool2dParams& p, const float* x,
                                                                            float* y, float* scratch) {
  const int64_t P = p.P(), Q = p.Q(), W = p.W, L = PhaseLength(p);
  float* col = scratch;
  float* phase = scratch + W;
  // Output columns whose window lies inside the row: no clipping there.
  const int64_t q_lo = std::min(Q, (p.pw + p.sw - 1) / p.sw);
  const int64_t q_hi = std::max(q_lo, std::min(Q, (W + p.pw - p.kw) / p.sw + 1));
  for (int64_t oh = 0; oh < P; ++oh) {
    const int64_t h0 = oh * p.sh - p.ph;
    const int64_t hb = std::max<int64_t>(0, h0), he = std::min<int64_t>(p.H, h0 + p.kh);
    // Pass 1: col[w] = max over the clipped vertical window of x[.][w].
    const float* r0 = x + hb * W;
    for (int64_t w = 0; w < W; ++w) col[w] = r0[w];
    for (int64_t h = hb + 1; h < he; ++h) {
      const float* rh = x + h * W;
      for (int64_t w = 0; w < W; ++w) col[w] = Max(col[w], rh[w]);
    }
    float* yr = y + oh * Q;
    // Pass 2, interior columns. Window tap k of output q reads col[q * sw - pw + k], which is
    // phase (k - pw) mod sw at index q + floor((k - pw) / sw): with the row split into phases,
    // every tap is a contiguous run over q, so this pass vectorises like pass 1.
    if (q_lo < q_hi) {
      if (p.sw == 1) {
        phase = col;
      } else if (p.sw == 2) {
        // The usual stride (the stem's pool): a constant-stride split the compiler vectorises.
        float* even = phase;
        float* odd = phase + L;
        const int64_t pairs = W / 2;
        for (int64_t j = 0; j < pairs; ++j) {
          even[j] = col[2 * j];
          odd[j] = col[2 * j + 1];
        }
        if (W % 2 != 0) even[pairs] = col[W - 1];
      } else {
        for (int64_t r = 0; r < p.sw; ++r)
          for (int64_t j = 0; j * p.sw + r < W; ++j) phase[r * L + j] = col[j * p.sw + r];
      }
      for (int64_t k = 0; k < p.kw; ++k) {
        const int64_t t = k - p.pw;
        const int64_t d = t >= 0 ? t / p.sw : -((-t + p.sw - 1) / p.sw);
        const float* src = phase + (t - d * p.sw) * L + d;
        if (k == 0) {
          for (int64_t q = q_lo; q < q_hi; ++q) yr[q] = src[q];
        } else {
          for (int64_t q = q_lo; q < q_hi; ++q) yr[q] = Max(yr[q], src[q]);
        }
      }
    }
    // Pass 2, the clipped columns at the edges.
    auto clipped = [&](int64_t q) {
      const int64_t w0 = q * p.sw - p.pw;
      const int64_t wb = std::max<int64_t>(0, w0), we = std::min<int64_t>(W, w0 + p.kw);
      float m = col[wb];
      for (int64_t w = wb + 1; w < we; ++w) m = Max(m, col[w]);
      yr[q] = m;
    };
    for (int64_t q = 0; q < q_lo; ++q) clipped(q);
    for (int64_t q = q_hi; q < Q; ++q) clipped(q);
  }
}

}  // namespace

Status MaxPool2d(const MaxPool2dParams& p, const float* x, float* y, ThreadPool& pool) {
  assert(p.P() >= 1 && p.Q() >= 1 && 2 * p.ph <= p.kh && 2 * p.pw <= p.kw);
  const int64_t planes = p.N * p.C;
  const int64_t in_plane = p.H * p.W, out_plane = p.P() * p.Q();
  // About 64 KiB of input per task keeps scheduling overhead negligible.
  const int64_t per_task = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, in_plane));
  const int64_t tasks = (planes + per_task - 1) / per_task;
  // The stem's pool (3x3, stride 2, pad 1) has an AVX-512 kernel; the ISA cap lowers it to the generic one.
  const bool fast = p.kh == 3 && p.kw == 3 && p.sh == 2 && p.sw == 2 && p.ph == 1 && p.pw == 1 &&
                    GetIsaCap() >= Isa::kAvx512 && GetCpuFeatures().best >= Isa::kAvx512;
  const int64_t scratch = fast ? MaxPool3x3s2ScratchFloats(p.W) : ScratchFloats(p);
  std::atomic<bool> no_memory{false};
  pool.Run(tasks, [&](int64_t t, int thread) {
    float* col = pool.Scratch(thread, scratch);
    if (col == nullptr) {
      no_memory = true;
      return;
    }
    const int64_t end = std::min(planes, (t + 1) * per_task);
    for (int64_t i = t * per_task; i < end; ++i) {
      if (fast) {
        MaxPool3x3s2PlaneAvx512(p, x + i * in_plane, y + i * out_plane, col);
      } else {
        PoolPlane(p, x + i * in_plane, y + i * out_plane, col);
      }
    }
  });
  if (no_memory)
    return Status::OutOfMemory("maxPool2d: could not allocate " + std::to_string(scratch * 4) + " bytes of scratch");
  return Status::Ok();
}

}  // namespace resnext
