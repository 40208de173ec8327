// Max pool over NHWC activations (the ResNeXt stem's 3x3, stride 2, pad 1, but
// any window): one thread per output element, channels fastest so a warp reads
// 32 consecutive channels of one pixel. Body: MaxPoolAt in model_ops.cuh.
#include "cuda/cuda_status.h"
#include "cuda/model_ops.cuh"

namespace resnext {
namespace cuda {
namespace {

template <typename T>
__global__ void MaxPoolKernel(PoolDims d, const T* __restrict__ x, T* __restrict__ y, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = FromFloat<T>(MaxPoolAt(d, x, i));
}

}  // namespace

Status LaunchMaxPool2d(const PoolDims& d, const void* x, void* y, DType dtype, cudaStream_t stream) {
  const int64_t total = d.N * d.P * d.Q * d.C;
  if (total == 0) return Status::Ok();
  const int threads = 256;
  int64_t blocks = (total + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  RESNEXT_DISPATCH_DTYPE(dtype, T,
                         (MaxPoolKernel<T><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
                             d, static_cast<const T*>(x), static_cast<T*>(y), total)));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "max pool kernel launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
