// Per-thread bodies of the conversion kernels in convert.cu, __host__
// __device__ so tools/emulate_kernels.cu can run them on the CPU.
//   Transpose: one 32x32 tile of a [rows][cols] plane into [cols][rows], in two
//   phases around a barrier (load into the shared tile, store transposed).
//   PadNhwc: one element of the zero-padded NHWC copy.
#pragma once

#include <cstdint>

#include "cuda/element.cuh"

namespace resnext {
namespace cuda {

constexpr int kTile = 32;

// Thread (tx, ty) of a block of kTile x `threads_y` threads.
template <typename TI>
__host__ __device__ __forceinline__ void TransposeLoad(const TI* __restrict__ src, float (*tile)[kTile + 1],
                                                       int64_t rows, int64_t cols, int64_t r0, int64_t c0, int tx,
                                                       int ty, int threads_y) {
  for (int i = ty; i < kTile; i += threads_y) {
    const int64_t r = r0 + i, c = c0 + tx;
    if (r < rows && c < cols) tile[i][tx] = ToFloat(src[r * cols + c]);
  }
}

template <typename TO>
__host__ __device__ __forceinline__ void TransposeStore(TO* __restrict__ dst, const float (*tile)[kTile + 1],
                                                        int64_t rows, int64_t cols, int64_t r0, int64_t c0, int tx,
                                                        int ty, int threads_y) {
  for (int i = ty; i < kTile; i += threads_y) {
    const int64_t c = c0 + i, r = r0 + tx;
    if (r < rows && c < cols) dst[c * rows + r] = FromFloat<TO>(tile[tx][i]);
  }
}

template <typename T>
__host__ __device__ __forceinline__ void PadNhwcElement(const T* __restrict__ src, T* __restrict__ dst, int64_t i,
                                                        int64_t H, int64_t W, int64_t C, int64_t top, int64_t left,
                                                        int64_t Hp, int64_t Wp) {
  const int64_t c = i % C;
  int64_t t = i / C;
  const int64_t w = t % Wp - left;
  t /= Wp;
  const int64_t h = t % Hp - top;
  const int64_t n = t / Hp;
  dst[i] = (h >= 0 && h < H && w >= 0 && w < W) ? src[((n * H + h) * W + w) * C + c] : FromFloat<T>(0.f);
}

}  // namespace cuda
}  // namespace resnext
