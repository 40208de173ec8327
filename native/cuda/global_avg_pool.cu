// Global average pool over NHWC activations: x [N][HW][C] -> y [N][C], one
// thread per (n, c) with c fastest (coalesced reads of each pixel's channels),
// float32 accumulation. Body: AvgPoolAt in model_ops.cuh.
#include "cuda/cuda_status.h"
#include "cuda/model_ops.cuh"

namespace resnext {
namespace cuda {
namespace {

template <typename T>
__global__ void GlobalAvgPoolKernel(int64_t N, int64_t HW, int64_t C, const T* __restrict__ x, T* __restrict__ y) {
  const int64_t total = N * C;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = FromFloat<T>(AvgPoolAt(HW, C, x, i / C, i % C));
}

}  // namespace

Status LaunchGlobalAvgPool(int64_t N, int64_t HW, int64_t C, const void* x, void* y, DType dtype, cudaStream_t stream) {
  const int64_t total = N * C;
  if (total == 0 || HW == 0) return Status::Ok();
  const int threads = 128;
  int64_t blocks = (total + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  RESNEXT_DISPATCH_DTYPE(dtype, T,
                         (GlobalAvgPoolKernel<T><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
                             N, HW, C, static_cast<const T*>(x), static_cast<T*>(y))));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "global average pool kernel launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
