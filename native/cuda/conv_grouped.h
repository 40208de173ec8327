// Our grouped convolution on the GPU ("cuda" backend), NHWC.
//
// Layouts (element type T = float, __half or __nv_bfloat16; float32 accumulation):
//   x        [N][H][W][C]            (NHWC)
//   w        [R][S][C/G][K]          packed once at plan creation (PackWeightsRSCK)
//   bias     [K] float32 or null
//   residual [N][P][Q][K] or null    (same type as y)
//   y        [N][P][Q][K]
// y = act(conv(x, w) + bias + residual).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "cuda/dtype.h"
#include "resnext/conv_params.h"
#include "resnext/status.h"

namespace resnext {
namespace cuda {

struct GroupedConvArgs {
  ConvParams p;
  DType dtype = DType::kF32;
  const void* x = nullptr;
  const void* w = nullptr;
  const float* bias = nullptr;
  const void* residual = nullptr;
  void* y = nullptr;
};

// Each launcher enqueues on `stream` and returns launch errors only (errors of
// the running kernel surface at the next synchronization). `sms` is the
// device's multiprocessor count, used to size blocks so batch-1 layers still
// spread over the whole GPU.

// conv_grouped_direct.cu: any shape.
Status LaunchGroupedDirect(const GroupedConvArgs& a, int sms, cudaStream_t stream);

// conv_grouped_vec4.cu: C/G, K/G multiples of 4. Returns why it cannot run a
// shape, or an empty string when it can.
std::string GroupedVec4Unsupported(const ConvParams& p);
Status LaunchGroupedVec4(const GroupedConvArgs& a, int sms, cudaStream_t stream);

// conv_grouped_mma.cu: tensor cores, float16/bfloat16, C/G multiple of 16,
// K/G multiple of 8 up to 64. Weights packed with PackWeightsGRSKC.
std::string GroupedMmaUnsupported(const ConvParams& p, DType dtype);
Status LaunchGroupedMma(const GroupedConvArgs& a, int sms, cudaStream_t stream);

// conv_grouped_mma_pipe.cu: tensor cores with several groups per block and a
// cp.async pipeline, float16/bfloat16, C/G == K/G in {4, 8, 16, 32, 64}, groups
// filling 64-channel blocks; the batch >= 8 path. Same weight layout as
// grouped_mma. GroupedMmaPipeRunUnsupported says why one run's tensors cannot
// take it (alignment), or empty.
std::string GroupedMmaPipeUnsupported(const ConvParams& p, DType dtype);
std::string GroupedMmaPipeRunUnsupported(const GroupedConvArgs& a);
Status LaunchGroupedMmaPipe(const GroupedConvArgs& a, int sms, cudaStream_t stream);

// Shared by the launchers: refuses tensors whose indices would not fit the
// kernels' 32-bit sizes.
Status CheckKernelLimits(const ConvParams& p);

// Bias, residual and activation over an NHWC output in place: the epilogue of
// the cuDNN path, whose legacy API fuses only some of it.
Status LaunchEpilogue(void* y, DType dtype, int64_t rows, int64_t K, const float* bias, const void* residual,
                      Activation act, cudaStream_t stream);

// Host-side packing of OIHW float32 weights.
void PackWeightsRSCK(const float* oihw, const ConvParams& p, float* out);   // -> [R][S][C/G][K]
void PackWeightsKRSC(const float* oihw, const ConvParams& p, float* out);   // -> [K][R][S][C/G] (cuDNN NHWC filter)
void PackWeightsGRSKC(const float* oihw, const ConvParams& p, float* out);  // -> [G][R][S][K/G][C/G] (grouped_mma*)

}  // namespace cuda
}  // namespace resnext
