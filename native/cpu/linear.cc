// Fully connected layer (see resnext/linear.h). Tasks own blocks of 16 output
// features; each weight row is read once from memory and reused for every
// batch row while it sits in L1. The dot product uses AVX2+FMA when the CPU
// (and the ISA cap) allows it, chosen once per call from the detected
// features; otherwise eight scalar accumulators (vectorisable with SSE2).
#include "resnext/linear.h"

#include <immintrin.h>

#include <algorithm>
#include <cassert>

#include "resnext/cpu_features.h"

namespace resnext {

namespace {

float DotScalar(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  float r = _mm_cvtss_f32(h);
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

}  // namespace

Status Linear(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* bias, float* y,
              ThreadPool& pool) {
  assert(n >= 0 && in >= 1 && out >= 1);
  const bool avx2 = GetIsaCap() >= Isa::kAvx2;
  auto dot = avx2 ? DotAvx2 : DotScalar;
  constexpr int64_t kBlock = 16;
  const int64_t tasks = (out + kBlock - 1) / kBlock;
  pool.Run(tasks, [&](int64_t t, int) {
    const int64_t end = std::min(out, (t + 1) * kBlock);
    for (int64_t o = t * kBlock; o < end; ++o) {
      const float b = bias ? bias[o] : 0.0f;
      for (int64_t r = 0; r < n; ++r) y[r * out + o] = b + dot(x + r * in, w + o * in, in);
    }
  });
  return Status::Ok();
}

}  // namespace resnext
