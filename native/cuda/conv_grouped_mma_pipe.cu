// Pipelined tensor-core grouped convolution for float16 / bfloat16 at batch
// >= 8 (pieces, layouts and the shared-memory stages in
// conv_grouped_mma_pipe.cuh): 128 threads per block, a kStages-deep cp.async
// pipeline over the filter taps, mma.sync m16n8k16, the fused epilogue.
// Instantiated for C/G == K/G in {4, 8, 16, 32, 64} (ResNeXt's grouped 3x3
// layers); other shapes go to grouped_mma or grouped_vec4.
#include <cstdint>

#include "cuda/conv_grouped.h"
#include "cuda/conv_grouped_mma.cuh"
#include "cuda/conv_grouped_mma_pipe.cuh"
#include "cuda/cuda_status.h"

namespace resnext {
namespace cuda {
namespace {

__device__ __forceinline__ void CpAsync16(void* dst, const void* src, bool valid, bool keep_in_l1) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  const int bytes = valid ? 16 : 0;  // 0: nothing is read, the destination is zero-filled
  if (keep_in_l1)
    asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(bytes));
  else
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(bytes));
}

template <typename T, int CG, int KG>
struct DeviceExec {
  using S = PipeShape<CG, KG>;
  const ConvDims& d;
  PipeBlock b;
  const T* x;
  const T* w;
  T* smem;
  float (&acc)[S::kGW][S::kNT][4];

  __device__ __forceinline__ void Issue(int it) {
    for (int i = threadIdx.x; i < PipeCopyCount<CG, KG>(); i += S::kThreads) {
      const PipeCopy c = PipeCopyAt<CG, KG>(d, b, it, i);
      // Input rows are read by up to R*S stages of this and the neighbouring
      // blocks: keep them in L1. Weights only go through L2.
      CpAsync16(smem + c.dst, (c.from_w ? w : x) + c.src, c.valid, !c.from_w);
    }
  }
  __device__ __forceinline__ void Commit() { asm volatile("cp.async.commit_group;\n" ::); }
  __device__ __forceinline__ void Wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(S::kStages - 2));
    __syncthreads();
  }
  __device__ __forceinline__ void Compute(int buffer) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    uint32_t a[4];
    PipeWarpSteps<CG, KG>(
        warp, [&](int gl, int kc) { PipeFragA<CG, KG>(smem, buffer, warp, lane, gl, kc, a); },
        [&](int i, int gl, int kc, int j) {
          uint32_t bf[2];
          PipeFragB<CG, KG>(smem, buffer, lane, gl, kc, j, bf);
          Mma16816<T>(acc[i][j], a, bf);
        });
  }
};

template <typename T, int CG, int KG>
__global__ void __launch_bounds__(128)
    GroupedMmaPipeKernel(ConvDims d, const T* __restrict__ x, const T* __restrict__ w, const float* __restrict__ bias,
                         const T* __restrict__ residual, T* __restrict__ y) {
  using S = PipeShape<CG, KG>;
  extern __shared__ __align__(16) unsigned char pipe_smem[];
  float acc[S::kGW][S::kNT][4];
#pragma unroll
  for (int i = 0; i < S::kGW; i++)
#pragma unroll
    for (int j = 0; j < S::kNT; j++) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.f;
  DeviceExec<T, CG, KG> ex{d, PipeBlockAt<CG, KG>(d, blockIdx.x), x, w, reinterpret_cast<T*>(pipe_smem), acc};
  PipeMainloop<CG, KG>(d, ex);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
#pragma unroll
  for (int i = 0; i < S::kGW; i++)
#pragma unroll
    for (int j = 0; j < S::kNT; j++)
      PipeStore<CG, KG>(d, ex.b, warp, lane, PipeWarpGroup<CG, KG>(warp, i), j, acc[i][j], bias, residual, y);
}

template <int CG, int KG>
constexpr size_t PipeSmemBytes() {
  return size_t(PipeShape<CG, KG>::kStages) * PipeShape<CG, KG>::kStageElems * 2;
}

template <typename T, int CG, int KG>
Status Launch(const ConvDims& d, const GroupedConvArgs& a, cudaStream_t stream) {
  using S = PipeShape<CG, KG>;
  const int64_t mblocks = (int64_t(d.N) * d.P * d.Q + S::kBM - 1) / S::kBM;
  const int64_t blocks = mblocks * (d.G() / S::kGB);
  if (blocks > 0x7fffffff) return Status::Unsupported("grouped_mma_pipe: too many blocks for one launch");
  constexpr size_t smem = PipeSmemBytes<CG, KG>();
  if (smem > 48 * 1024) {
    // Once per kernel (thread-safe static): later launches may be inside a CUDA graph capture.
    static const cudaError_t attr = cudaFuncSetAttribute(
        GroupedMmaPipeKernel<T, CG, KG>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    RESNEXT_CUDA_TRY(attr, "grouped_mma_pipe shared memory");
  }
  GroupedMmaPipeKernel<T, CG, KG><<<static_cast<unsigned>(blocks), S::kThreads, smem, stream>>>(
      d, static_cast<const T*>(a.x), static_cast<const T*>(a.w), a.bias, static_cast<const T*>(a.residual),
      static_cast<T*>(a.y));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "grouped_mma_pipe launch");
  return Status::Ok();
}

template <typename T>
Status LaunchCg(const ConvDims& d, const GroupedConvArgs& a, cudaStream_t stream) {
  switch (d.Cg) {
    case 4:
      return Launch<T, 4, 4>(d, a, stream);
    case 8:
      return Launch<T, 8, 8>(d, a, stream);
    case 16:
      return Launch<T, 16, 16>(d, a, stream);
    case 32:
      return Launch<T, 32, 32>(d, a, stream);
    default:
      return Launch<T, 64, 64>(d, a, stream);
  }
}

bool Aligned16(const void* p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

std::string GroupedMmaPipeUnsupported(const ConvParams& p, DType dtype) {
  if (dtype == DType::kF32) return "float32 (the tensor-core path is for float16 and bfloat16)";
  const int64_t cg = p.Cg(), kg = p.Kg();
  if (cg != kg || (cg != 4 && cg != 8 && cg != 16 && cg != 32 && cg != 64))
    return "built for channels per group in == out in {4, 8, 16, 32, 64}, received " + std::to_string(cg) + " in, " +
           std::to_string(kg) + " out";
  const int64_t gb = 64 / cg;
  if (p.G % gb != 0)
    return std::to_string(p.G) + " groups do not fill its blocks of " + std::to_string(gb) + " groups (64 channels)";
  return "";
}

std::string GroupedMmaPipeRunUnsupported(const GroupedConvArgs& a) {
  if (!Aligned16(a.x) || !Aligned16(a.y) || !Aligned16(a.residual) || !Aligned16(a.w))
    return "a tensor is not 16-byte aligned";
  return "";
}

Status LaunchGroupedMmaPipe(const GroupedConvArgs& a, int /*sms*/, cudaStream_t stream) {
  Status s = CheckKernelLimits(a.p);
  if (!s.ok()) return s;
  std::string why = GroupedMmaPipeUnsupported(a.p, a.dtype);
  if (why.empty()) why = GroupedMmaPipeRunUnsupported(a);
  if (!why.empty()) return Status::Unsupported("grouped_mma_pipe: " + why);
  const ConvDims d = MakeConvDims(a.p);
  if (a.dtype == DType::kF16) return LaunchCg<__half>(d, a, stream);
  return LaunchCg<__nv_bfloat16>(d, a, stream);
}

}  // namespace cuda
}  // namespace resnext
