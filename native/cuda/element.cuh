// Loads and stores of float32 / float16 / bfloat16 elements as float32, shared
// by the kernels (which accumulate in float32 whatever the storage type).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace resnext {
namespace cuda {

__device__ __forceinline__ float ToFloat(float v) { return v; }
__device__ __forceinline__ float ToFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T FromFloat(float v);
template <>
__device__ __forceinline__ float FromFloat<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half FromFloat<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

}  // namespace cuda
}  // namespace resnext

// Calls BODY with `using T = <element type>` for a runtime DType.
#define RESNEXT_DISPATCH_DTYPE(dtype, T, ...)                    \
  switch (dtype) {                                               \
    case ::resnext::cuda::DType::kF32: {                         \
      using T = float;                                           \
      __VA_ARGS__;                                               \
      break;                                                     \
    }                                                            \
    case ::resnext::cuda::DType::kF16: {                         \
      using T = __half;                                          \
      __VA_ARGS__;                                               \
      break;                                                     \
    }                                                            \
    case ::resnext::cuda::DType::kBF16: {                        \
      using T = __nv_bfloat16;                                   \
      __VA_ARGS__;                                               \
      break;                                                     \
    }                                                            \
  }
