// Grouped direct convolution, NHWC, one output channel per thread and TQ output
// pixels along a row per thread (see conv_grouped.h for the layouts).
//
// Why this shape: a block covers up to 128 consecutive output channels, i.e.
// several groups at once (32 groups of 4 channels in ResNeXt-50's first stage),
// so its input loads hit one contiguous run of channels and its output stores
// are coalesced. Each thread sums only over its own group's C/G channels (no
// mostly-zero dense tile). Weights are packed [R][S][C/G][K] so the 32 threads
// of a warp read 32 consecutive weights, and each weight is reused for TQ
// pixels from a register. Bias, residual and ReLU are applied before the single
// store. Batch-1 layers still get N*P*ceil(Q/TQ)*ceil(K/128) blocks' worth of
// threads, enough to cover every SM for ResNeXt's 7x7..56x56 layers.
#include "cuda/conv_grouped.h"

#include "cuda/cuda_status.h"
#include "cuda/element.cuh"

namespace resnext {
namespace cuda {
namespace {

struct Dims {
  int N, C, H, W, K, R, S, Cg, Kg, P, Q;
  int sh, sw, dh, dw, pt, pl;
  int relu;
};

template <typename T, int TQ>
__global__ void GroupedConvNhwcKernel(const T* __restrict__ x, const T* __restrict__ w, const float* __restrict__ bias,
                                      const T* __restrict__ residual, T* __restrict__ y, Dims d) {
  // grid.x walks the pixel tiles (up to 2^31-1 blocks: batch 256 at 56x56
  // needs ~10^5), grid.y the channel blocks.
  const int k = blockIdx.y * blockDim.x + threadIdx.x;
  const int q_tiles = (d.Q + TQ - 1) / TQ;
  const int64_t tile = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  if (k >= d.K || tile >= int64_t(d.N) * d.P * q_tiles) return;
  const int qt = static_cast<int>(tile % q_tiles);
  const int64_t np = tile / q_tiles;
  const int p = static_cast<int>(np % d.P);
  const int n = static_cast<int>(np / d.P);
  const int q0 = qt * TQ;
  const int c0 = (k / d.Kg) * d.Cg;

  float acc[TQ];
#pragma unroll
  for (int j = 0; j < TQ; j++) acc[j] = 0.f;

  const int h_base = p * d.sh - d.pt;
  for (int r = 0; r < d.R; r++) {
    const int h = h_base + r * d.dh;
    if (h < 0 || h >= d.H) continue;
    const T* x_row = x + (int64_t(n) * d.H + h) * int64_t(d.W) * d.C + c0;
    for (int s = 0; s < d.S; s++) {
      const T* w_rs = w + (int64_t(r) * d.S + s) * int64_t(d.Cg) * d.K + k;
      const T* x_pix[TQ];
      bool ok[TQ];
#pragma unroll
      for (int j = 0; j < TQ; j++) {
        const int wc = (q0 + j) * d.sw - d.pl + s * d.dw;
        ok[j] = (q0 + j) < d.Q && wc >= 0 && wc < d.W;
        x_pix[j] = x_row + int64_t(ok[j] ? wc : 0) * d.C;
      }
      for (int c = 0; c < d.Cg; c++) {
        const float wv = ToFloat(__ldg(w_rs + int64_t(c) * d.K));
#pragma unroll
        for (int j = 0; j < TQ; j++) {
          if (ok[j]) acc[j] = fmaf(ToFloat(__ldg(x_pix[j] + c)), wv, acc[j]);
        }
      }
    }
  }

  const float b = bias ? bias[k] : 0.f;
#pragma unroll
  for (int j = 0; j < TQ; j++) {
    const int q = q0 + j;
    if (q >= d.Q) break;
    const int64_t o = ((int64_t(n) * d.P + p) * d.Q + q) * d.K + k;
    float v = acc[j] + b;
    if (residual) v += ToFloat(residual[o]);
    if (d.relu) v = fmaxf(v, 0.f);
    y[o] = FromFloat<T>(v);
  }
}

template <typename T>
__global__ void EpilogueKernel(T* __restrict__ y, int64_t rows, int K, const float* __restrict__ bias, const T* __restrict__ residual,
                               int relu) {
  const int64_t total = rows * K;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    float v = ToFloat(y[i]);
    if (bias) v += bias[i % K];
    if (residual) v += ToFloat(residual[i]);
    if (relu) v = fmaxf(v, 0.f);
    y[i] = FromFloat<T>(v);
  }
}

}  // namespace

Status LaunchGroupedConv(const GroupedConvArgs& a, cudaStream_t stream) {
  const ConvParams& p = a.p;
  const int64_t limit = int64_t{1} << 30;
  if (p.N * p.C * p.H * p.W >= limit * 2 || p.N * p.K * p.P() * p.Q() >= limit * 2)
    return Status::Unsupported("cuda grouped conv: tensors over 2^31 elements");
  Dims d{static_cast<int>(p.N), static_cast<int>(p.C), static_cast<int>(p.H), static_cast<int>(p.W), static_cast<int>(p.K),
         static_cast<int>(p.R), static_cast<int>(p.S), static_cast<int>(p.Cg()), static_cast<int>(p.Kg()), static_cast<int>(p.P()),
         static_cast<int>(p.Q()), static_cast<int>(p.stride_h), static_cast<int>(p.stride_w), static_cast<int>(p.dil_h),
         static_cast<int>(p.dil_w), static_cast<int>(p.pad_top), static_cast<int>(p.pad_left), p.activation == Activation::kRelu ? 1 : 0};
  constexpr int kTQ = 4;
  const int bk = d.K >= 128 ? 128 : ((d.K + 31) / 32) * 32;
  const int by = 256 / bk;
  const int64_t tiles = int64_t(d.N) * d.P * ((d.Q + kTQ - 1) / kTQ);
  const int64_t tile_blocks = (tiles + by - 1) / by;
  const int64_t k_blocks = (d.K + bk - 1) / bk;
  if (tile_blocks > 0x7fffffff || k_blocks > 65535)
    return Status::Unsupported("cuda grouped conv: " + std::to_string(tiles) + " pixel tiles x " + std::to_string(k_blocks) + " channel blocks exceed one launch");
  dim3 block(bk, by);
  dim3 grid(static_cast<unsigned>(tile_blocks), static_cast<unsigned>(k_blocks));
  RESNEXT_DISPATCH_DTYPE(a.dtype, T,
                         (GroupedConvNhwcKernel<T, kTQ><<<grid, block, 0, stream>>>(
                             static_cast<const T*>(a.x), static_cast<const T*>(a.w), a.bias, static_cast<const T*>(a.residual),
                             static_cast<T*>(a.y), d)));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "grouped conv kernel launch");
  return Status::Ok();
}

Status LaunchEpilogue(void* y, DType dtype, int64_t rows, int64_t K, const float* bias, const void* residual, Activation act,
                      cudaStream_t stream) {
  if (!bias && !residual && act == Activation::kNone) return Status::Ok();
  const int64_t total = rows * K;
  if (total == 0) return Status::Ok();
  const int threads = 256;
  int64_t blocks = (total + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  const int relu = act == Activation::kRelu ? 1 : 0;
  RESNEXT_DISPATCH_DTYPE(dtype, T,
                         (EpilogueKernel<T><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
                             static_cast<T*>(y), rows, static_cast<int>(K), bias, static_cast<const T*>(residual), relu)));
  RESNEXT_CUDA_TRY(cudaGetLastError(), "epilogue kernel launch");
  return Status::Ok();
}

}  // namespace cuda
}  // namespace resnext
