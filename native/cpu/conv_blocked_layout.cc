// Conversions between NCHW [N][C][HW] and the blocked channel layout
// [N][ceil(C/cb)][HW][cb] (channels past C zero), and the lookup of the
// blocked convolution kernels (resnext/conv_blocked.h). Conversions run only
// at a blocked network's input and output, so they are plain loops: per
// block, per tile of 64 pixels, a cb x 64 transpose through the L1 cache.
#include <algorithm>
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

const BlockedConv* FindBlockedConv(const ConvParams& p, Isa cap) {
  static const BlockedConv* const kTable[] = {
      &kBlockedConv1x1Avx512,        &kBlockedConv1x1Avx2,        &kBlockedConv1x1Scalar,
      &kBlockedConvGrouped3x3Avx512, &kBlockedConvGrouped3x3Avx2, &kBlockedConvGrouped3x3Scalar,
  };
  if (cap > GetCpuFeatures().best) cap = GetCpuFeatures().best;
  for (const BlockedConv* k : kTable) {
    if (k->isa <= cap && k->unsupported(p) == nullptr) return k;
  }
  return nullptr;
}

}  // namespace resnext
