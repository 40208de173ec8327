// Device-side layout and type conversions, enqueued on a stream:
//   ConvertDType      dense element-wise float32 <-> float16 <-> bfloat16
//   NchwToNhwc        [N][C][HW] -> [N][HW][C], converting the type on the way
//   NhwcToNchw        the inverse
//   PadNhwc           [N][H][W][C] -> [N][H+top+bottom][W+left+right][C], zeros around
// Rank-4 device tensors are kept NHWC (what the kernels read); uploads and
// downloads pass through these so the JS side always sees NCHW order.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/dtype.h"
#include "resnext/status.h"

namespace resnext {
namespace cuda {

Status ConvertDType(const void* src, DType src_type, void* dst, DType dst_type, int64_t count, cudaStream_t stream);
Status NchwToNhwc(const void* src, DType src_type, void* dst, DType dst_type, int64_t N, int64_t C, int64_t HW,
                  cudaStream_t stream);
Status NhwcToNchw(const void* src, DType src_type, void* dst, DType dst_type, int64_t N, int64_t C, int64_t HW,
                  cudaStream_t stream);

Status PadNhwc(const void* src, void* dst, DType type, int64_t N, int64_t H, int64_t W, int64_t C, int64_t top,
               int64_t left, int64_t bottom, int64_t right, cudaStream_t stream);

}  // namespace cuda
}  // namespace resnext
