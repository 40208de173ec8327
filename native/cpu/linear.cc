// Fully connected layer (see resnext/linear.h), w [out][in] as torch stores
// it (no packing: the weights stream from memory once per call, which is the
// floor at small batch: 8 MiB for ResNet's 2048 -> 1000). Tasks own blocks of
// 24 output features; within one, register tiles of up to 8 batch rows x 3
// features (AVX-512; AVX2: 4 x 3) share each weight vector across the rows,
// so the weights are read from memory once for the whole batch and the
// inputs (L2-resident) once per 3 features. The ISA follows the ISA cap;
// scalar: eight accumulators per dot product (vectorisable with SSE2).
#include "resnext/linear.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>
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

// Register tiles of R batch rows x F output features, AVX-512 and AVX2: the
// accumulator acc[r][f] is a vector of partial sums over the input dimension;
// each step loads F weight vectors and R input vectors and issues R * F
// FMAs, so a weight vector read from memory serves every row of the tile.
// The partial sums are reduced horizontally once per output at the end.
template <int R, int F>
__attribute__((target("avx512f,avx512dq"))) void TileAvx512(const float* x, int64_t in, const float* w,
                                                            const float* bias, float* y, int64_t out) {
  __m512 acc[R][F];
  for (int r = 0; r < R; ++r)
    for (int f = 0; f < F; ++f) acc[r][f] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= in; i += 16) {
    __m512 wv[F];
    for (int f = 0; f < F; ++f) wv[f] = _mm512_loadu_ps(w + f * in + i);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_loadu_ps(x + r * in + i);
      for (int f = 0; f < F; ++f) acc[r][f] = _mm512_fmadd_ps(xv, wv[f], acc[r][f]);
    }
  }
  if (i < in) {
    const __mmask16 m = static_cast<__mmask16>((1u << (in - i)) - 1u);
    __m512 wv[F];
    for (int f = 0; f < F; ++f) wv[f] = _mm512_maskz_loadu_ps(m, w + f * in + i);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + r * in + i);
      for (int f = 0; f < F; ++f) acc[r][f] = _mm512_fmadd_ps(xv, wv[f], acc[r][f]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int f = 0; f < F; ++f) y[r * out + f] = (bias ? bias[f] : 0.0f) + _mm512_reduce_add_ps(acc[r][f]);
}

__attribute__((target("avx2,fma"))) inline float HsumAvx2(__m256 s) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  return _mm_cvtss_f32(h);
}

template <int R, int F>
__attribute__((target("avx2,fma"))) void TileAvx2(const float* x, int64_t in, const float* w, const float* bias,
                                                  float* y, int64_t out) {
  __m256 acc[R][F];
  for (int r = 0; r < R; ++r)
    for (int f = 0; f < F; ++f) acc[r][f] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= in; i += 8) {
    __m256 wv[F];
    for (int f = 0; f < F; ++f) wv[f] = _mm256_loadu_ps(w + f * in + i);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_loadu_ps(x + r * in + i);
      for (int f = 0; f < F; ++f) acc[r][f] = _mm256_fmadd_ps(xv, wv[f], acc[r][f]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int f = 0; f < F; ++f) {
      float s = HsumAvx2(acc[r][f]);
      for (int64_t j = i; j < in; ++j) s += x[r * in + j] * w[f * in + j];
      y[r * out + f] = (bias ? bias[f] : 0.0f) + s;
    }
}

using TileFn = void (*)(const float*, int64_t, const float*, const float*, float*, int64_t);

template <int R, int F>
struct Avx512Tile {
  static constexpr TileFn fn = TileAvx512<R, F>;
};
template <int R, int F>
struct Avx2Tile {
  static constexpr TileFn fn = TileAvx2<R, F>;
};

// AVX-512: up to 8 rows x 3 features (24 of the 32 zmm accumulate); AVX2: 4 x 3 (12 of 16 ymm).
constexpr int kRows512 = 8, kRows256 = 4, kFeat = 3;

template <template <int, int> class T, int... Rs>
constexpr std::array<std::array<TileFn, kFeat>, sizeof...(Rs)> MakeTiles(std::integer_sequence<int, Rs...>) {
  return {{{T<Rs + 1, 1>::fn, T<Rs + 1, 2>::fn, T<Rs + 1, 3>::fn}...}};
}

// kTiles[r - 1][f - 1]: the tile of r rows and f features.
constexpr auto kTiles512 = MakeTiles<Avx512Tile>(std::make_integer_sequence<int, kRows512>{});
constexpr auto kTiles256 = MakeTiles<Avx2Tile>(std::make_integer_sequence<int, kRows256>{});

}  // namespace

Status Linear(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* bias, float* y,
              ThreadPool& pool) {
  assert(n >= 0 && in >= 1 && out >= 1);
  const Isa isa = std::min(GetIsaCap(), GetCpuFeatures().best);
  // Features per task, a multiple of kFeat: 24 rows of a 2048-wide weight (192 KiB) per task.
  constexpr int64_t kBlock = 8 * kFeat;
  const int64_t tasks = (out + kBlock - 1) / kBlock;
  if (isa == Isa::kScalar) {
    pool.Run(tasks, [&](int64_t t, int) {
      const int64_t end = std::min(out, (t + 1) * kBlock);
      for (int64_t o = t * kBlock; o < end; ++o) {
        const float b = bias ? bias[o] : 0.0f;
        for (int64_t r = 0; r < n; ++r) y[r * out + o] = b + DotScalar(x + r * in, w + o * in, in);
      }
    });
    return Status::Ok();
  }
  const bool wide = isa >= Isa::kAvx512;
  const int64_t max_rows = wide ? kRows512 : kRows256;
  pool.Run(tasks, [&](int64_t t, int) {
    const int64_t end = std::min(out, (t + 1) * kBlock);
    // Per group of features, every tile of rows: the group's weight rows stay in L1 across the row tiles.
    for (int64_t o = t * kBlock; o < end; o += kFeat) {
      const int64_t f = std::min<int64_t>(kFeat, end - o);
      for (int64_t r = 0; r < n; r += max_rows) {
        const int64_t rows = std::min(max_rows, n - r);
        const TileFn fn = wide ? kTiles512[rows - 1][f - 1] : kTiles256[rows - 1][f - 1];
        fn(x + r * in, in, w + o * in, bias ? bias + o : nullptr, y + r * out + o, out);
      }
    }
  });
  return Status::Ok();
}

}  // namespace resnext
