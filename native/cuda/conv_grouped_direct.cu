// Launcher of the generic grouped direct convolution (body and layouts in
// conv_grouped_direct.cuh), and the kernel-size limits shared by launchers.
#include "cuda/conv_grouped.h"
#include "cuda/conv_grouped_direct.cuh"
#include "cuda/cuda_status.h"

namespace resnext {
namespace cuda {
namespace {

// grid.x walks the pixel tiles (up to 2^31-1 blocks: batch 256 at 56x56 needs
// ~10^5), grid.y the channel blocks.
template <typename T, int TQ>
__global__ void GroupedDirectKernel(ConvDims d, const T* __restrict__ x, const T* __restrict__ w,
                                    const float* __restrict__ bias, const T* __restrict__ residual, T* __restrict__ y) {
  GroupedDirectThread<T, TQ>(d, blockIdx.y * blockDim.x + threadIdx.x, int64_t(blockIdx.x) * blockDim.y + threadIdx.y,
                             x, w, bias, residual, y);
}

}  // namespace

Status CheckKernelLimits(const ConvParams& p) {
  const int64_t limit = (int64_t{1} << 31) - 1;
  if (p.InputSize() > limit || p.OutputSize() > limit || p.WeightSize() > limit)
    return Status::Unsupported("cuda grouped conv: tensors over 2^31-1 elements");
  return Status::Ok();
}

Status LaunchGroupedDirect(const GroupedConvArgs& a, int sms, cudaStream_t stream) {
  Status s = CheckKernelLimits(a.p);
  if (!s.ok()) return s;
  const ConvDims d = MakeConvDims(a.p);
  constexpr int kTQ = 4;
  const int bk = d.K >= 128 ? 128 : ((d.K + 31) / 32) * 32;
  const int64_t tiles = int64_t(d.N) * d.P * ((d.Q + kTQ - 1) / kTQ);
  const int64_t k_blocks = (d.K + bk - 1) / bk;
  // Fewer pixel tiles per block when the layer is small, so that there are
  // about two blocks per multiprocessor.
  int by = 256 / bk;
  while (by > 1 && ((tiles + by - 1) / by) * k_blocks < 2 * int64_t(sms)) by /= 2;
  const int64_t tile_blocks = (tiles + by - 1) / by;
  if (tile_blocks > 0x7fffffff || k_blocks > 65535)
    return Status::Unsupported("cuda grouped conv: " + std::to_string(tiles) + " pixel tiles x " +
                               std::to_string(k_blocks) + " channel blocks exceed one launch");
  dim3 block(bk, by);
  dim3 grid(static_cast<unsigned>(tile_blocks), static_cast<unsigned>(k_blocks));
  RESNEXT_DISPATCH_DTYPE(a.dtype, T,
                         (GroupedDirectKernel<T, kTQ><<<grid, block, 0, stream>>>(
                             d, static_cast<const T*>(a.x), static_cast<const T*>(a.w), a.bias,
                             static_cast<const T*>(a.residual), static_cast<T*>(a.y))));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "grouped direct conv launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
