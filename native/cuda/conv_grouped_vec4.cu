// Launcher of the vectorised grouped convolution (body and layouts in
// conv_grouped_vec4.cuh): 4 output channels x 4 pixels per thread.
#include "cuda/conv_grouped.h"
#include "cuda/conv_grouped_vec4.cuh"
#include "cuda/cuda_status.h"

namespace resnext {
namespace cuda {
namespace {

template <typename T, int TQ>
__global__ void GroupedVec4Kernel(ConvDims d, const T* __restrict__ x, const T* __restrict__ w,
                                  const float* __restrict__ bias, const T* __restrict__ residual, T* __restrict__ y) {
  GroupedVec4Thread<T, TQ>(d, blockIdx.y * blockDim.x + threadIdx.x, int64_t(blockIdx.x) * blockDim.y + threadIdx.y, x,
                           w, bias, residual, y);
}

}  // namespace

std::string GroupedVec4Unsupported(const ConvParams& p) {
  // 4-wide loads need every 4-channel run to start on a multiple of 4.
  if (p.Cg() % 4 != 0) return "channels per group " + std::to_string(p.Cg()) + " is not a multiple of 4";
  if (p.Kg() % 4 != 0) return "output channels per group " + std::to_string(p.Kg()) + " is not a multiple of 4";
  return "";
}

Status LaunchGroupedVec4(const GroupedConvArgs& a, int sms, cudaStream_t stream) {
  Status s = CheckKernelLimits(a.p);
  if (!s.ok()) return s;
  const std::string why = GroupedVec4Unsupported(a.p);
  if (!why.empty()) return Status::Unsupported("grouped_vec4: " + why);
  const ConvDims d = MakeConvDims(a.p);
  constexpr int kTQ = 4;
  const int k4 = d.K / 4;
  const int bx = k4 >= 32 ? 32 : k4;
  const int64_t tiles = int64_t(d.N) * d.P * ((d.Q + kTQ - 1) / kTQ);
  const int64_t k_blocks = (k4 + bx - 1) / bx;
  int by = 256 / bx;
  while (by > 1 && ((tiles + by - 1) / by) * k_blocks < 2 * int64_t(sms)) by /= 2;
  const int64_t tile_blocks = (tiles + by - 1) / by;
  if (tile_blocks > 0x7fffffff || k_blocks > 65535)
    return Status::Unsupported("grouped_vec4: " + std::to_string(tiles) + " pixel tiles exceed one launch");
  dim3 block(bx, by);
  dim3 grid(static_cast<unsigned>(tile_blocks), static_cast<unsigned>(k_blocks));
  RESNEXT_DISPATCH_DTYPE(a.dtype, T,
                         (GroupedVec4Kernel<T, kTQ><<<grid, block, 0, stream>>>(
                             d, static_cast<const T*>(a.x), static_cast<const T*>(a.w), a.bias,
                             static_cast<const T*>(a.residual), static_cast<T*>(a.y))));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "grouped vec4 conv launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
