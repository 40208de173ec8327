// Tensor-core grouped convolution for float16 / bfloat16 (pieces, layouts and
// the fragment layout in conv_grouped_mma.cuh): four warps per block, each
// warp one (16-pixel tile, group) pair, neighbouring warps on neighbouring
// groups of the same pixels so their input loads share cache lines.
#include "cuda/conv_grouped.h"
#include "cuda/conv_grouped_mma.cuh"
#include "cuda/cuda_status.h"

namespace resnext {
namespace cuda {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kMaxNTiles = 8;  // K/G up to 64

template <typename T, int NT>
__global__ void GroupedMmaKernel(ConvDims d, int64_t tiles, const T* __restrict__ x, const T* __restrict__ w,
                                 const float* __restrict__ bias, const T* __restrict__ residual, T* __restrict__ y) {
  const int lane = threadIdx.x % 32;
  const int64_t item = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (item >= tiles * d.G()) return;  // whole warps leave together: mma.sync needs all 32 lanes
  const int g = static_cast<int>(item % d.G());
  const int64_t tile = item / d.G();
  const MmaPixels px = MmaLanePixels(d, tile, lane);
  float acc[NT][4];
#pragma unroll
  for (int j = 0; j < NT; j++) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
  for (int r = 0; r < d.R; r++) {
    for (int s = 0; s < d.S; s++) {
      const T* row0 = MmaInputRow(d, px, 0, r, s, g, x);
      const T* row1 = MmaInputRow(d, px, 1, r, s, g, x);
      for (int c = 0; c < d.Cg; c += 16) {
        uint32_t a[4];
        MmaLoadA(row0, row1, c, lane, a);
#pragma unroll
        for (int j = 0; j < NT; j++) {
          uint32_t b[2];
          MmaLoadB(d, w, g, r, s, j, c, lane, b);
          Mma16816<T>(acc[j], a, b);
        }
      }
    }
  }
#pragma unroll
  for (int j = 0; j < NT; j++) MmaStore(d, px, tile, g, j, lane, acc[j], bias, residual, y);
}

template <typename T, int NT>
void Launch(const ConvDims& d, int64_t tiles, const GroupedConvArgs& a, cudaStream_t stream) {
  const int64_t warps = tiles * d.G();
  const int64_t blocks = (warps + kWarpsPerBlock - 1) / kWarpsPerBlock;
  GroupedMmaKernel<T, NT><<<static_cast<unsigned>(blocks), 32 * kWarpsPerBlock, 0, stream>>>(
      d, tiles, static_cast<const T*>(a.x), static_cast<const T*>(a.w), a.bias, static_cast<const T*>(a.residual),
      static_cast<T*>(a.y));
}

template <typename T>
void LaunchNT(const ConvDims& d, int64_t tiles, const GroupedConvArgs& a, cudaStream_t stream) {
  switch (d.Kg / 8) {
    case 1:
      Launch<T, 1>(d, tiles, a, stream);
      break;
    case 2:
      Launch<T, 2>(d, tiles, a, stream);
      break;
    case 3:
      Launch<T, 3>(d, tiles, a, stream);
      break;
    case 4:
      Launch<T, 4>(d, tiles, a, stream);
      break;
    case 5:
      Launch<T, 5>(d, tiles, a, stream);
      break;
    case 6:
      Launch<T, 6>(d, tiles, a, stream);
      break;
    case 7:
      Launch<T, 7>(d, tiles, a, stream);
      break;
    default:
      Launch<T, kMaxNTiles>(d, tiles, a, stream);
      break;
  }
}

}  // namespace

std::string GroupedMmaUnsupported(const ConvParams& p, DType dtype) {
  if (dtype == DType::kF32) return "float32 (the tensor-core path is for float16 and bfloat16)";
  if (p.Cg() % 16 != 0) return "channels per group " + std::to_string(p.Cg()) + " is not a multiple of 16";
  if (p.Kg() % 8 != 0 || p.Kg() > 8 * kMaxNTiles)
    return "output channels per group " + std::to_string(p.Kg()) + " is not a multiple of 8 up to " +
           std::to_string(8 * kMaxNTiles);
  return "";
}

Status LaunchGroupedMma(const GroupedConvArgs& a, int /*sms*/, cudaStream_t stream) {
  Status s = CheckKernelLimits(a.p);
  if (!s.ok()) return s;
  const std::string why = GroupedMmaUnsupported(a.p, a.dtype);
  if (!why.empty()) return Status::Unsupported("grouped_mma: " + why);
  const ConvDims d = MakeConvDims(a.p);
  const int64_t tiles = (int64_t(d.N) * d.P * d.Q + 15) / 16;
  if ((tiles * d.G() + kWarpsPerBlock - 1) / kWarpsPerBlock > 0x7fffffff)
    return Status::Unsupported("grouped_mma: too many tiles for one launch");
  if (a.dtype == DType::kF16)
    LaunchNT<__half>(d, tiles, a, stream);
  else
    LaunchNT<__nv_bfloat16>(d, tiles, a, stream);
  RESNEXT_CUDA_TRY(cudaGetLastError(), "grouped mma conv launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
