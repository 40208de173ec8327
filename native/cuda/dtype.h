// Element types of device tensors. Host tensors are always float32; on the GPU
// a tensor may also hold float16 or bfloat16 (kernels accumulate in float32).
// The numeric values are part of the N-API contract (lib/cuda_types.ts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace resnext {
namespace cuda {

enum class DType : int32_t { kF32 = 0, kF16 = 1, kBF16 = 2 };

inline size_t DTypeSize(DType t) { return t == DType::kF32 ? 4 : 2; }

inline bool ValidDType(int32_t v) { return v >= 0 && v <= 2; }

inline const char* DTypeName(DType t) {
  switch (t) {
    case DType::kF32:
      return "float32";
    case DType::kF16:
      return "float16";
    case DType::kBF16:
      return "bfloat16";
  }
  return "unknown";
}

}  // namespace cuda
}  // namespace resnext
