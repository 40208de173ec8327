// Pieces of the tensor-core grouped convolution (float16 / bfloat16, C/G and
// K/G multiples of 16 and 8): one warp computes a 16-pixel x K/G tile of one
// group as an implicit GEMM, M = pixels, N = K/G, K-dim = C/G x R x S, with
// mma.sync m16n8k16 (float32 accumulation). Each group is its own small GEMM,
// never a mostly-zero dense tile.
//
// Layouts: x NHWC; w packed once as [G][R][S][K/G][C/G] (so that a B fragment's
// pair of input channels is one 32-bit load); y/residual NHWC; bias float32.
//
// Fragment layout of m16n8k16 (PTX ISA, "Matrix Fragments for mma.m16n8k16"),
// with gid = lane / 4 and tig = lane % 4:
//   A (16x16, row-major): a0 = (gid, 2*tig..+1), a1 = (gid+8, 2*tig..+1),
//                         a2 = (gid, 2*tig+8..+9), a3 = (gid+8, 2*tig+8..+9)
//   B (16x8, col-major):  b0 = (k 2*tig..+1, n gid), b1 = (k 2*tig+8..+9, n gid)
//   C/D (16x8, float32):  c0,c1 = (gid, 2*tig..+1), c2,c3 = (gid+8, 2*tig..+1)
// The functions below compute one lane's part; the kernel (conv_grouped_mma.cu)
// and the CPU emulator (tools/emulate_kernels.cu, which plays the 32 lanes and
// the mma itself) compose the same functions.
#pragma once

#include <cstdint>
#include <cstring>

#include "cuda/conv_dims.h"
#include "cuda/element.cuh"

namespace resnext {
namespace cuda {

// The two output pixels (rows gid and gid+8 of the tile) a lane works on.
struct MmaPixels {
  int n[2], p[2], q[2];
  bool valid[2];
};

__host__ __device__ __forceinline__ MmaPixels MmaLanePixels(const ConvDims& d, int64_t tile, int lane) {
  MmaPixels px;
  const int64_t M = int64_t(d.N) * d.P * d.Q;
  for (int i = 0; i < 2; i++) {
    const int64_t m = tile * 16 + lane / 4 + 8 * i;
    px.valid[i] = m < M;
    const int64_t mm = px.valid[i] ? m : 0;
    px.q[i] = static_cast<int>(mm % d.Q);
    px.p[i] = static_cast<int>((mm / d.Q) % d.P);
    px.n[i] = static_cast<int>(mm / (int64_t(d.Q) * d.P));
  }
  return px;
}

// 32 bits holding two consecutive elements, or zero.
template <typename T>
__host__ __device__ __forceinline__ uint32_t LoadPair(const T* p, bool ok) {
  if (!ok) return 0u;
#ifdef __CUDA_ARCH__
  return __ldg(reinterpret_cast<const unsigned int*>(p));
#else
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#endif
}

// The input row of pixel i for filter tap (r, s), at the group's first channel; null when in the padding.
template <typename T>
__host__ __device__ __forceinline__ const T* MmaInputRow(const ConvDims& d, const MmaPixels& px, int i, int r, int s,
                                                         int g, const T* x) {
  if (!px.valid[i]) return nullptr;
  const int h = px.p[i] * d.sh - d.pt + r * d.dh;
  const int w = px.q[i] * d.sw - d.pl + s * d.dw;
  if (h < 0 || h >= d.H || w < 0 || w >= d.W) return nullptr;
  return x + ((int64_t(px.n[i]) * d.H + h) * d.W + w) * d.C + int64_t(g) * d.Cg;
}

// A fragment for input channels [c, c+16) of the group.
template <typename T>
__host__ __device__ __forceinline__ void MmaLoadA(const T* row0, const T* row1, int c, int lane, uint32_t a[4]) {
  const int k = c + 2 * (lane % 4);
  a[0] = LoadPair(row0 + k, row0 != nullptr);
  a[1] = LoadPair(row1 + k, row1 != nullptr);
  a[2] = LoadPair(row0 + k + 8, row0 != nullptr);
  a[3] = LoadPair(row1 + k + 8, row1 != nullptr);
}

// B fragment for n-tile j (output channels j*8..j*8+7 of the group), input channels [c, c+16), tap (r, s).
template <typename T>
__host__ __device__ __forceinline__ void MmaLoadB(const ConvDims& d, const T* w, int g, int r, int s, int j, int c,
                                                  int lane, uint32_t b[2]) {
  const T* base = w + ((int64_t(g) * d.R + r) * d.S + s) * int64_t(d.Kg) * d.Cg + int64_t(j * 8 + lane / 4) * d.Cg + c +
                  2 * (lane % 4);
  b[0] = LoadPair(base, true);
  b[1] = LoadPair(base + 8, true);
}

// One warp's mma.sync m16n8k16, float32 accumulation in place (GPU only; the
// emulator plays it from the fragment layout above).
template <typename T>
__device__ __forceinline__ void Mma16816(float d[4], const uint32_t a[4], const uint32_t b[2]);

template <>
__device__ __forceinline__ void Mma16816<__half>(float d[4], const uint32_t a[4], const uint32_t b[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <>
__device__ __forceinline__ void Mma16816<__nv_bfloat16>(float d[4], const uint32_t a[4], const uint32_t b[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Epilogue of n-tile j: bias, residual, ReLU, then the two pairs this lane owns.
template <typename T>
__host__ __device__ __forceinline__ void MmaStore(const ConvDims& d, const MmaPixels& px, int64_t tile, int g, int j,
                                                  int lane, const float acc[4], const float* bias, const T* residual,
                                                  T* y) {
  const int k = g * d.Kg + j * 8 + 2 * (lane % 4);
  for (int i = 0; i < 2; i++) {
    if (!px.valid[i]) continue;
    const int64_t o = (tile * 16 + lane / 4 + 8 * i) * d.K + k;
    float v[2] = {acc[2 * i], acc[2 * i + 1]};
    for (int e = 0; e < 2; e++) {
      if (bias) v[e] += bias[k + e];
      if (residual) v[e] += ToFloat(residual[o + e]);
      if (d.relu) v[e] = Relu(v[e]);
      y[o + e] = FromFloat<T>(v[e]);
    }
  }
}

}  // namespace cuda
}  // namespace resnext
