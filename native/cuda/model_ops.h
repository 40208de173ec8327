// The non-conv layers of a ResNeXt forward on the GPU (max pool, global
// average pool, the final linear layer), enqueued on the addon's stream. All
// activations are NHWC of the given element type; the linear layer's weights
// stay float32 ([M][C], as torchvision stores fc.weight) and every kernel
// accumulates in float32. One kernel per file: max_pool.cu,
// global_avg_pool.cu, linear.cu; their per-output bodies are in
// model_ops.cuh so tools/emulate_kernels.cu can run them on the CPU.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/dtype.h"
#include "resnext/status.h"

namespace resnext {
namespace cuda {

struct PoolDims {
  int64_t N = 0, H = 0, W = 0, C = 0;  // input [N][H][W][C]
  int kh = 3, kw = 3, sh = 2, sw = 2, ph = 1, pw = 1;
  int64_t P = 0, Q = 0;  // output [N][P][Q][C]
};

// x [N][H][W][C] -> y [N][P][Q][C]; NaN propagates like PyTorch's max_pool2d.
Status LaunchMaxPool2d(const PoolDims& d, const void* x, void* y, DType dtype, cudaStream_t stream);

// x [N][HW][C] -> y [N][C] (the mean over HW).
Status LaunchGlobalAvgPool(int64_t N, int64_t HW, int64_t C, const void* x, void* y, DType dtype, cudaStream_t stream);

// y [N][M] = x [N][C] * w^T + bias; w [M][C] and bias [M] float32, bias may be null.
Status LaunchLinear(int64_t N, int64_t C, int64_t M, const void* x, const float* w, const float* bias, void* y,
                    DType dtype, cudaStream_t stream);

}  // namespace cuda
}  // namespace resnext
