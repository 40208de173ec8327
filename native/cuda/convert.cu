// Element-type conversion and NCHW <-> NHWC transposes on the device (see
// convert.h). The transposes go through a 32x32 shared-memory tile so that both
// the read and the write are coalesced.
#include "cuda/convert.h"

#include "cuda/cuda_status.h"
#include "cuda/convert_body.cuh"
#include "cuda/element.cuh"

namespace resnext {
namespace cuda {
namespace {

template <typename TI, typename TO>
__global__ void ConvertKernel(const TI* __restrict__ src, TO* __restrict__ dst, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    dst[i] = FromFloat<TO>(ToFloat(src[i]));
  }
}

// One image: src is [rows][cols], dst is [cols][rows]; blockIdx.z is the image.
template <typename TI, typename TO>
__global__ void TransposeKernel(const TI* __restrict__ src, TO* __restrict__ dst, int64_t rows, int64_t cols) {
  __shared__ float tile[kTile][kTile + 1];  // +1 column: no bank conflicts on the transposed read
  const int64_t plane = rows * cols;
  src += blockIdx.z * plane;
  dst += blockIdx.z * plane;
  const int64_t r0 = int64_t(blockIdx.y) * kTile, c0 = int64_t(blockIdx.x) * kTile;
  TransposeLoad(src, tile, rows, cols, r0, c0, threadIdx.x, threadIdx.y, blockDim.y);
  __syncthreads();
  TransposeStore(dst, tile, rows, cols, r0, c0, threadIdx.x, threadIdx.y, blockDim.y);
}

template <typename TI, typename TO>
Status LaunchTranspose(const void* src, void* dst, int64_t N, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (N == 0 || rows == 0 || cols == 0) return Status::Ok();
  if (N > 65535 || (rows + 31) / 32 > 65535)
    return Status::Unsupported("transpose: " + std::to_string(N) + " images of " + std::to_string(rows) +
                               " rows exceed the grid limit");
  dim3 block(kTile, 8);
  dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile),
            static_cast<unsigned>(N));
  TransposeKernel<TI, TO><<<grid, block, 0, stream>>>(static_cast<const TI*>(src), static_cast<TO*>(dst), rows, cols);
  RESNEXT_CUDA_TRY(cudaGetLastError(), "transpose kernel launch");
  return Status::Ok();
}

Status Transpose(const void* src, DType st, void* dst, DType dt, int64_t N, int64_t rows, int64_t cols,
                 cudaStream_t stream) {
  Status s = Status::Ok();
  RESNEXT_DISPATCH_DTYPE(
      st, TI, RESNEXT_DISPATCH_DTYPE(dt, TO, s = (LaunchTranspose<TI, TO>(src, dst, N, rows, cols, stream))));
  return s;
}

template <typename T>
__global__ void PadNhwcKernel(const T* __restrict__ src, T* __restrict__ dst, int64_t N, int64_t H, int64_t W,
                              int64_t C, int64_t top, int64_t left, int64_t Hp, int64_t Wp) {
  const int64_t total = N * Hp * Wp * C;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    PadNhwcElement(src, dst, i, H, W, C, top, left, Hp, Wp);
}

}  // namespace

Status PadNhwc(const void* src, void* dst, DType type, int64_t N, int64_t H, int64_t W, int64_t C, int64_t top,
               int64_t left, int64_t bottom, int64_t right, cudaStream_t stream) {
  const int64_t Hp = H + top + bottom, Wp = W + left + right;
  const int64_t total = N * Hp * Wp * C;
  if (total == 0) return Status::Ok();
  const int threads = 256;
  int64_t blocks = (total + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  RESNEXT_DISPATCH_DTYPE(type, T,
                         (PadNhwcKernel<T><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
                             static_cast<const T*>(src), static_cast<T*>(dst), N, H, W, C, top, left, Hp, Wp)));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "pad kernel launch");
  return Status::Ok();
}

Status ConvertDType(const void* src, DType st, void* dst, DType dt, int64_t count, cudaStream_t stream) {
  if (count == 0) return Status::Ok();
  if (st == dt) {
    RESNEXT_CUDA_TRY(cudaMemcpyAsync(dst, src, count * DTypeSize(st), cudaMemcpyDeviceToDevice, stream),
                     "cudaMemcpyAsync");
    return Status::Ok();
  }
  const int threads = 256;
  const int64_t blocks = (count + threads - 1) / threads;
  const unsigned grid = static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
  RESNEXT_DISPATCH_DTYPE(st, TI,
                         RESNEXT_DISPATCH_DTYPE(dt, TO,
                                                (ConvertKernel<TI, TO><<<grid, threads, 0, stream>>>(
                                                    static_cast<const TI*>(src), static_cast<TO*>(dst), count))));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "convert kernel launch");
  return Status::Ok();
}

Status NchwToNhwc(const void* src, DType st, void* dst, DType dt, int64_t N, int64_t C, int64_t HW,
                  cudaStream_t stream) {
  return Transpose(src, st, dst, dt, N, C, HW, stream);
}

Status NhwcToNchw(const void* src, DType st, void* dst, DType dt, int64_t N, int64_t C, int64_t HW,
                  cudaStream_t stream) {
  return Transpose(src, st, dst, dt, N, HW, C, stream);
}

}  // namespace cuda
}  // namespace resnext
