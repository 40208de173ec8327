// Loads and stores of float32 / float16 / bfloat16 elements as float32, shared
// by the kernels (which accumulate in float32 whatever the storage type).
// Everything here is __host__ __device__ so the kernels' per-thread bodies can
// also run on the CPU (tools/emulate_kernels.cu checks their indexing there).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace resnext {
namespace cuda {

__host__ __device__ __forceinline__ float ToFloat(float v) { return v; }
__host__ __device__ __forceinline__ float ToFloat(__half v) { return __half2float(v); }
__host__ __device__ __forceinline__ float ToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

// ReLU that keeps NaN (as torch.relu): fmaxf(v, 0) would turn NaN into 0.
__host__ __device__ __forceinline__ float Relu(float v) { return v < 0.f ? 0.f : v; }

template <typename T>
__host__ __device__ __forceinline__ T FromFloat(float v);
template <>
__host__ __device__ __forceinline__ float FromFloat<float>(float v) {
  return v;
}
template <>
__host__ __device__ __forceinline__ __half FromFloat<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__host__ __device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// Read-only cached load on the GPU, a plain load when emulated on the host.
template <typename T>
__host__ __device__ __forceinline__ T Ldg(const T* p) {
#ifdef __CUDA_ARCH__
  return __ldg(p);
#else
  return *p;
#endif
}

// Four consecutive elements (16-byte aligned for float, 8 for the half types).
__host__ __device__ __forceinline__ void Load4(const float* p, float v[4]) {
#ifdef __CUDA_ARCH__
  const float4 q = __ldg(reinterpret_cast<const float4*>(p));
  v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
#else
  for (int i = 0; i < 4; i++) v[i] = p[i];
#endif
}
template <typename H>
__host__ __device__ __forceinline__ void Load4(const H* p, float v[4]) {
#ifdef __CUDA_ARCH__
  const uint2 q = __ldg(reinterpret_cast<const uint2*>(p));
  const H* h = reinterpret_cast<const H*>(&q);
  for (int i = 0; i < 4; i++) v[i] = ToFloat(h[i]);
#else
  for (int i = 0; i < 4; i++) v[i] = ToFloat(p[i]);
#endif
}

__host__ __device__ __forceinline__ void Store4(float* p, const float v[4]) {
#ifdef __CUDA_ARCH__
  *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
#else
  for (int i = 0; i < 4; i++) p[i] = v[i];
#endif
}
template <typename H>
__host__ __device__ __forceinline__ void Store4(H* p, const float v[4]) {
#ifdef __CUDA_ARCH__
  uint2 q;
  H* h = reinterpret_cast<H*>(&q);
  for (int i = 0; i < 4; i++) h[i] = FromFloat<H>(v[i]);
  *reinterpret_cast<uint2*>(p) = q;
#else
  for (int i = 0; i < 4; i++) p[i] = FromFloat<H>(v[i]);
#endif
}

}  // namespace cuda
}  // namespace resnext

// Calls BODY with `using T = <element type>` for a runtime DType.
#define RESNEXT_DISPATCH_DTYPE(dtype, T, ...) \
  switch (dtype) {                            \
    case ::resnext::cuda::DType::kF32: {      \
      using T = float;                        \
      __VA_ARGS__;                            \
      break;                                  \
    }                                         \
    case ::resnext::cuda::DType::kF16: {      \
      using T = __half;                       \
      __VA_ARGS__;                            \
      break;                                  \
    }                                         \
    case ::resnext::cuda::DType::kBF16: {     \
      using T = __nv_bfloat16;                \
      __VA_ARGS__;                            \
      break;                                  \
    }                                         \
  }
