// Bias + residual + ReLU in place over an NHWC output [rows][K]: the epilogue
// of the cuDNN path (see conv_grouped.h), whose legacy API fuses ReLU only with
// one algorithm.
#include "cuda/conv_grouped.h"
#include "cuda/cuda_status.h"
#include "cuda/element.cuh"

namespace resnext {
namespace cuda {
namespace {

template <typename T>
__global__ void EpilogueKernel(T* __restrict__ y, int64_t rows, int K, const float* __restrict__ bias,
                               const T* __restrict__ residual, int relu) {
  const int64_t total = rows * K;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    float v = ToFloat(y[i]);
    if (bias) v += bias[i % K];
    if (residual) v += ToFloat(residual[i]);
    if (relu) v = Relu(v);
    y[i] = FromFloat<T>(v);
  }
}

}  // namespace

Status LaunchEpilogue(void* y, DType dtype, int64_t rows, int64_t K, const float* bias, const void* residual,
                      Activation act, cudaStream_t stream) {
  if (!bias && !residual && act == Activation::kNone) return Status::Ok();
  const int64_t total = rows * K;
  if (total == 0) return Status::Ok();
  const int threads = 256;
  int64_t blocks = (total + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  const int relu = act == Activation::kRelu ? 1 : 0;
  RESNEXT_DISPATCH_DTYPE(
      dtype, T,
      (EpilogueKernel<T><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
          static_cast<T*>(y), rows, static_cast<int>(K), bias, static_cast<const T*>(residual), relu)));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "epilogue kernel launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
