// The classifier: y [N][M] = x [N][C] * w^T + bias with w [M][C] float32 (kept
// float32 whatever the activations' type: it is small and the logits are what
// the caller reads). One warp per (output feature m, tile of kLinearRows
// images): each weight row is read once per tile instead of once per image,
// lanes stride C (coalesced), then a shuffle reduction. Body: LinearLane in
// model_ops.cuh.
#include "cuda/cuda_status.h"
#include "cuda/model_ops.cuh"

namespace resnext {
namespace cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

template <typename T>
__global__ void LinearKernel(int64_t N, int64_t C, int64_t M, const T* __restrict__ x, const float* __restrict__ w,
                             const float* __restrict__ bias, T* __restrict__ y) {
  const int lane = threadIdx.x & 31;
  const int64_t m = blockIdx.x * int64_t(kWarpsPerBlock) + (threadIdx.x >> 5);
  const int64_t n0 = blockIdx.y * int64_t(kLinearRows);
  if (m >= M) return;
  const int rows = static_cast<int>(N - n0 < kLinearRows ? N - n0 : kLinearRows);
  float acc[kLinearRows];
  LinearLane(C, x, w, m, n0, rows, lane, 32, acc);
#pragma unroll
  for (int j = 0; j < kLinearRows; j++) {
    float v = acc[j];
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    acc[j] = v;
  }
  if (lane == 0) {
    const float b = bias ? bias[m] : 0.f;
    for (int j = 0; j < rows; j++) y[(n0 + j) * M + m] = FromFloat<T>(acc[j] + b);
  }
}

}  // namespace

Status LaunchLinear(int64_t N, int64_t C, int64_t M, const void* x, const float* w, const float* bias, void* y,
                    DType dtype, cudaStream_t stream) {
  if (N == 0 || M == 0) return Status::Ok();
  const int64_t tiles = (N + kLinearRows - 1) / kLinearRows;
  if (tiles > 65535)
    return Status::Unsupported("linear: at most " + std::to_string(65535 * kLinearRows) + " rows per call");
  const dim3 grid(static_cast<unsigned>((M + kWarpsPerBlock - 1) / kWarpsPerBlock), static_cast<unsigned>(tiles));
  RESNEXT_DISPATCH_DTYPE(dtype, T,
                         (LinearKernel<T><<<grid, kWarpsPerBlock * 32, 0, stream>>>(N, C, M, static_cast<const T*>(x),
                                                                                    w, bias, static_cast<T*>(y))));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "linear kernel launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
