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
// Layouts (MaxPool2dParams cb_in / cb_out): NCHW -> NCHW (above);
// NCHW -> blocked [N][C/cb][P][Q][cb], the same plane kernels followed by a
// transpose per channel block (in registers for 3x3/2 into NCHW16c);
// blocked -> blocked, the per-ISA kernels of pool_kernels.inc (channels in
// the lanes).
#include "resnext/max_pool2d.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <limits>
#include <string>

#include "resnext/conv_blocked.h"
#include "resnext/cpu_features.h"
#include "resnext/pool_kernels.h"

namespace resnext {

// The 3x3 stride-2 pad-1 plane kernel (max_pool3x3s2_avx512.cc).
int64_t MaxPool3x3s2ScratchFloats(int64_t W);
void MaxPool3x3s2PlaneAvx512(const MaxPool2dParams& p, const float* x, float* y, float* scratch);
int64_t MaxPool3x3s2ToBlocked16ScratchFloats(int64_t W);
void MaxPool3x3s2ToBlocked16Avx512(const MaxPool2dParams& p, const float* x, int64_t lanes, float* y, int64_t p0,
                                   int64_t p1, float* scratch);

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

// The 3x3 stride-2 pad-1 plane kernel (AVX-512) when the shape and the ISA cap allow it.
bool UseFast3x3s2(const MaxPool2dParams& p) {
  return p.kh == 3 && p.kw == 3 && p.sh == 2 && p.sw == 2 && p.ph == 1 && p.pw == 1 && GetIsaCap() >= Isa::kAvx512 &&
         GetCpuFeatures().best >= Isa::kAvx512;
}

Status NoScratch(int64_t floats) {
  return Status::OutOfMemory("maxPool2d: could not allocate " + std::to_string(floats * 4) + " bytes of scratch");
}

// NCHW -> NCHW: one task per group of planes.
Status PoolNchw(const MaxPool2dParams& p, const float* x, float* y, ThreadPool& pool) {
  const int64_t planes = p.N * p.C;
  const int64_t in_plane = p.H * p.W, out_plane = p.P() * p.Q();
  // About 64 KiB of input per task keeps scheduling overhead negligible.
  const int64_t per_task = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, in_plane));
  const int64_t tasks = (planes + per_task - 1) / per_task;
  const bool fast = UseFast3x3s2(p);
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
  return no_memory ? NoScratch(scratch) : Status::Ok();
}

// NCHW -> blocked (the stem's pool feeding a blocked stage: the layout change rides on the pool, so the
// larger input is never reordered and the output is written once). 3x3/2 into NCHW16c with AVX-512:
// MaxPool3x3s2ToBlocked16Avx512, 16 planes per output row, transposed in registers. Otherwise one task
// per (image, channel block): the block's planes are pooled by the NCHW plane kernels into the thread's
// scratch (cb pooled planes, L2-resident), then transposed into the blocked output while still in cache.
Status PoolNchwToBlocked(const MaxPool2dParams& p, const float* x, float* y, ThreadPool& pool) {
  const int cb = p.cb_out;
  const int64_t Cb = (p.C + cb - 1) / cb;
  const int64_t in_plane = p.H * p.W, out_plane = p.P() * p.Q();
  const bool fast = UseFast3x3s2(p);
  if (fast && cb == 16) {
    // The AVX-512 kernel pools and transposes row by row in registers: tasks (image, block, band of rows).
    const int64_t P = p.P();
    // About 16 KiB of each plane's input rows per task.
    const int64_t rows = std::max<int64_t>(1, (1 << 12) / std::max<int64_t>(1, 2 * p.W));
    const int64_t bands = (P + rows - 1) / rows;
    const int64_t scratch = MaxPool3x3s2ToBlocked16ScratchFloats(p.W);
    std::atomic<bool> no_memory{false};
    pool.Run(p.N * Cb * bands, [&](int64_t t, int thread) {
      float* buf = pool.Scratch(thread, scratch);
      if (buf == nullptr) {
        no_memory = true;
        return;
      }
      const int64_t blk = t / bands, band = t % bands;
      const int64_t n = blk / Cb, b = blk % Cb;
      MaxPool3x3s2ToBlocked16Avx512(p, x + (n * p.C + b * cb) * in_plane, std::min<int64_t>(cb, p.C - b * cb),
                                    y + blk * cb * out_plane, band * rows, std::min(P, (band + 1) * rows), buf);
    });
    return no_memory ? NoScratch(scratch) : Status::Ok();
  }
  const int64_t plane_scratch = fast ? MaxPool3x3s2ScratchFloats(p.W) : ScratchFloats(p);
  // The pooled planes first, 64-byte aligned, then the plane kernel's scratch.
  const int64_t pooled = (cb * out_plane + 15) / 16 * 16;
  const int64_t scratch = pooled + plane_scratch;
  std::atomic<bool> no_memory{false};
  pool.Run(p.N * Cb, [&](int64_t t, int thread) {
    float* buf = pool.Scratch(thread, scratch);
    if (buf == nullptr) {
      no_memory = true;
      return;
    }
    const int64_t n = t / Cb, b = t % Cb;
    const int64_t lanes = std::min<int64_t>(cb, p.C - b * cb);
    const float* xb = x + (n * p.C + b * cb) * in_plane;
    for (int64_t j = 0; j < lanes; ++j) {
      if (fast) {
        MaxPool3x3s2PlaneAvx512(p, xb + j * in_plane, buf + j * out_plane, buf + pooled);
      } else {
        PoolPlane(p, xb + j * in_plane, buf + j * out_plane, buf + pooled);
      }
    }
    ToBlockedImage(buf, y + (n * Cb + b) * cb * out_plane, lanes, out_plane, cb);
  });
  return no_memory ? NoScratch(scratch) : Status::Ok();
}

// Blocked -> blocked (pool_kernels.inc): one task per (image, channel block, band of output rows).
Status PoolBlocked(const MaxPool2dParams& p, const float* x, float* y, ThreadPool& pool) {
  const int cb = p.cb_in;
  const PoolKernels& k = FindPoolKernels();
  const int64_t Cb = (p.C + cb - 1) / cb;
  const int64_t P = p.P(), Q = p.Q();
  const int64_t in_block = p.H * p.W * cb, out_block = P * Q * cb;
  // About 64 KiB of input rows per task.
  const int64_t rows = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, p.sh * p.W * cb));
  const int64_t bands = (P + rows - 1) / rows;
  const int64_t scratch = p.W * cb;
  std::atomic<bool> no_memory{false};
  pool.Run(p.N * Cb * bands, [&](int64_t t, int thread) {
    float* col = pool.Scratch(thread, scratch);
    if (col == nullptr) {
      no_memory = true;
      return;
    }
    const int64_t blk = t / bands, band = t % bands;
    k.max_pool_block(p, cb, x + blk * in_block, y + blk * out_block, band * rows, std::min(P, (band + 1) * rows), col);
  });
  return no_memory ? NoScratch(scratch) : Status::Ok();
}

}  // namespace

extern const PoolKernels kPoolKernelsAvx512;
extern const PoolKernels kPoolKernelsAvx2;
extern const PoolKernels kPoolKernelsScalar;

const PoolKernels& FindPoolKernels() {
  static const PoolKernels* const kTable[] = {&kPoolKernelsAvx512, &kPoolKernelsAvx2, &kPoolKernelsScalar};
  Isa cap = GetIsaCap();
  if (cap > GetCpuFeatures().best) cap = GetCpuFeatures().best;
  for (const PoolKernels* k : kTable)
    if (k->isa <= cap) return *k;
  return kPoolKernelsScalar;
}

Status MaxPool2d(const MaxPool2dParams& p, const float* x, float* y, ThreadPool& pool) {
  assert(p.P() >= 1 && p.Q() >= 1 && 2 * p.ph <= p.kh && 2 * p.pw <= p.kw);
  assert((p.cb_out == 0 || p.cb_out == 8 || p.cb_out == 16) && (p.cb_in == 0 || p.cb_in == p.cb_out));
  if (p.cb_out == 0) return PoolNchw(p, x, y, pool);
  if (p.cb_in == 0) return PoolNchwToBlocked(p, x, y, pool);
  return PoolBlocked(p, x, y, pool);
}

}  // namespace resnext
