// Conversions between NCHW [N][C][HW] and the blocked channel layout
// [N][ceil(C/cb)][HW][cb] (channels past C zero), and the lookup of the
// blocked convolution kernels (resnext/conv_blocked.h). Conversions run only
// at a blocked network's input and output, so they are plain loops: per
// block, per tile of 64 pixels, a cb x 64 transpose through the L1 cache.
#include <algorithm>
#include <atomic>
#include <cstdint>

#include "resnext/conv_blocked.h"

namespace resnext {
namespace {

constexpr int64_t kTile = 64;

// One channel block of one image.
void ToBlock(const float* src, float* dst, int64_t channels, int64_t HW, int cb) {
  for (int64_t p0 = 0; p0 < HW; p0 += kTile) {
    const int64_t p1 = std::min(HW, p0 + kTile);
    for (int64_t j = 0; j < cb; ++j) {
      if (j < channels) {
        const float* s = src + j * HW;
        for (int64_t p = p0; p < p1; ++p) dst[p * cb + j] = s[p];
      } else {
        for (int64_t p = p0; p < p1; ++p) dst[p * cb + j] = 0.0f;
      }
    }
  }
}

void FromBlock(const float* src, float* dst, int64_t channels, int64_t HW, int cb) {
  for (int64_t p0 = 0; p0 < HW; p0 += kTile) {
    const int64_t p1 = std::min(HW, p0 + kTile);
    for (int64_t j = 0; j < channels; ++j) {
      float* d = dst + j * HW;
      for (int64_t p = p0; p < p1; ++p) d[p] = src[p * cb + j];
    }
  }
}

}  // namespace

void ToBlockedImage(const float* src, float* dst, int64_t C, int64_t HW, int cb) {
  for (int64_t b = 0; b * cb < C; ++b)
    ToBlock(src + b * cb * HW, dst + b * cb * HW, std::min<int64_t>(cb, C - b * cb), HW, cb);
}

void FromBlockedImage(const float* src, float* dst, int64_t C, int64_t HW, int cb) {
  for (int64_t b = 0; b * cb < C; ++b) {
    FromBlock(src + b * cb * HW, dst + b * cb * HW, std::min<int64_t>(cb, C - b * cb), HW, cb);
  }
}

void ToBlocked(const float* src, float* dst, int64_t N, int64_t C, int64_t HW, int cb, ThreadPool& pool) {
  const int64_t Cb = (C + cb - 1) / cb;
  pool.Run(N * Cb, [&](int64_t t, int) {
    const int64_t n = t / Cb, b = t % Cb;
    ToBlock(src + (n * C + b * cb) * HW, dst + (n * Cb + b) * cb * HW, std::min<int64_t>(cb, C - b * cb), HW, cb);
  });
}

void FromBlocked(const float* src, float* dst, int64_t N, int64_t C, int64_t HW, int cb, ThreadPool& pool) {
  const int64_t Cb = (C + cb - 1) / cb;
  pool.Run(N * Cb, [&](int64_t t, int) {
    const int64_t n = t / Cb, b = t % Cb;
    FromBlock(src + (n * Cb + b) * cb * HW, dst + (n * C + b * cb) * HW, std::min<int64_t>(cb, C - b * cb), HW, cb);
  });
}

Status RunBlockedOnNchw(const ConvRunArgs& a, ThreadPool& pool, int cb, int64_t extra_floats, BlockedImageFn image) {
  const ConvParams& p = *a.p;
  const int64_t HW = p.H * p.W, PQ = p.P() * p.Q();
  const int64_t in_f = BlockedFloats(1, p.C, HW, cb), out_f = BlockedFloats(1, p.K, PQ, cb);
  std::atomic<bool> oom{false};
  pool.Run(p.N, [&](int64_t n, int thread) {
    float* buf = pool.Scratch(thread, in_f + 2 * out_f + extra_floats);
    if (!buf) {
      oom = true;
      return;
    }
    float* bin = buf;
    float* bout = buf + in_f;
    float* bres = bout + out_f;
    ToBlockedImage(a.input + n * p.C * HW, bin, p.C, HW, cb);
    if (a.residual) ToBlockedImage(a.residual + n * p.K * PQ, bres, p.K, PQ, cb);
    ConvParams one = p;
    one.N = 1;
    ConvRunArgs b = a;
    b.p = &one;
    b.input = bin;
    b.output = bout;
    b.residual = a.residual ? bres : nullptr;
    image(b, bres + out_f);
    FromBlockedImage(bout, a.output + n * p.K * PQ, p.K, PQ, cb);
  });
  if (oom) return Status::OutOfMemory("conv: out of memory for blocked scratch");
  return Status::Ok();
}

const BlockedConv* FindBlockedConv(const ConvParams& p, Isa cap, bool direct_only) {
  static const BlockedConv* const kTable[] = {
      &kBlockedConv1x1Avx512,         &kBlockedConv1x1Avx2,         &kBlockedConv1x1Scalar,
      &kBlockedConvGrouped3x3Avx512,  &kBlockedConvGrouped3x3Avx2,  &kBlockedConvGrouped3x3Scalar,
      &kBlockedConvWinograd43Avx512,  &kBlockedConvWinograd43Avx2,  &kBlockedConvWinograd43Scalar,
      &kBlockedConvWinograd3x3Avx512, &kBlockedConvWinograd3x3Avx2, &kBlockedConvWinograd3x3Scalar,
      &kBlockedConvDense3x3Avx512,    &kBlockedConvDense3x3Avx2,    &kBlockedConvDense3x3Scalar,
  };
  if (cap > GetCpuFeatures().best) cap = GetCpuFeatures().best;
  for (const BlockedConv* k : kTable) {
    if (k->isa <= cap && !(direct_only && k->transformed) && k->unsupported(p) == nullptr) return k;
  }
  return nullptr;
}

}  // namespace resnext
