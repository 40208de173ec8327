// Pieces of the pipelined tensor-core grouped convolution (float16 / bfloat16,
// the batch >= 8 path): an NHWC implicit GEMM per group (M = pixels, N = K/G,
// reduction = taps x C/G) with mma.sync m16n8k16 and float32 accumulation.
// One thread block covers kBM pixels x kGB whole groups (PipeShape), a
// contiguous run of 64 input channels, so that 4- and 8-channel groups still
// load whole 16-byte vectors and share one block; the reduction is streamed
// through shared memory by a kStages-deep cp.async pipeline, each stage kTPS
// filter taps (enough taps that one group's slice is a whole k16 step when
// C/G is 4 or 8; taps past R*S are zero-filled).
//
// Layouts: x NHWC; w packed once as [G][R][S][K/G][C/G] (PackWeightsGRSKC,
// shared with grouped_mma); y/residual NHWC; bias float32.
// Shared memory per stage: A [kTPS][kBM][kARow] (kCB channels, padded by 8
// elements so the fragment loads of 8 rows fall in distinct banks), then
// W [kTPS][kGB][KG][CG].
//
// Fragment layout of m16n8k16 as in conv_grouped_mma.cuh. A k16 step of group
// gl covers reduction indices kk = kc*16 .. +15 of the stage, kk = tt*CG + c
// (tap tt of the stage, channel c of the group).
//
// Everything here is shared by the kernel (conv_grouped_mma_pipe.cu) and the
// CPU emulator (tools/emulate_kernels.cu), which plays the 128 threads, the
// asynchronous copies (applied only when waited for) and the warp's mma.
#pragma once

#include <cstdint>
#include <cstring>

#include "cuda/conv_dims.h"
#include "cuda/element.cuh"

namespace resnext {
namespace cuda {

template <int CG, int KG>
struct PipeShape {
  static_assert(CG % 4 == 0 && (CG >= 16 ? CG % 16 == 0 : 16 % CG == 0), "C/G: 4, 8 or a multiple of 16");
  static_assert(KG == 4 || (KG % 8 == 0 && KG <= 64), "K/G: 4 or a multiple of 8 up to 64");
  static constexpr int kThreads = 128;
  static constexpr int kWarps = 4;
  static constexpr int kGB = 64 / (CG > KG ? CG : KG);  // groups per block
  static constexpr int kCB = kGB * CG;                  // input channels per block
  static constexpr int kTPS = CG >= 16 ? 1 : 16 / CG;   // filter taps per stage
  static constexpr int kChunks = kTPS * CG / 16;        // k16 steps per group per stage
  static constexpr int kNT = (KG + 7) / 8;              // n8 tiles per group
  // Warps: kWM 16-pixel m-tiles x (4 / kWM) slices of the block's groups.
  // 4-channel groups stage 4 taps at a time, so their blocks take fewer pixels.
  static constexpr int kWM = CG == 4 ? 2 : 4;
  static constexpr int kWG = kWarps / kWM;
  static constexpr int kGW = kGB / kWG;  // groups per warp
  static constexpr int kBM = 16 * kWM;   // pixels per block
  static constexpr int kStages = 3;
  static constexpr int kARow = kCB + 8;
  static constexpr int kAStage = kTPS * kBM * kARow;
  static constexpr int kWStage = kTPS * kGB * KG * CG;
  static constexpr int kStageElems = kAStage + kWStage;
  static_assert(kGB % kWG == 0, "the block's groups split evenly over the warps");
  static_assert((KG * CG) % 8 == 0 && kCB % 8 == 0, "16-byte copies");
};

// The buffer stage `it` of the reduction lives in.
template <int CG, int KG>
__host__ __device__ __forceinline__ int PipeBuffer(int it) {
  return it % PipeShape<CG, KG>::kStages;
}

// Reduction stages: R*S taps, kTPS at a time.
template <int CG, int KG>
__host__ __device__ __forceinline__ int PipeIterations(const ConvDims& d) {
  return (d.R * d.S + PipeShape<CG, KG>::kTPS - 1) / PipeShape<CG, KG>::kTPS;
}

// Which (pixel block, group block) a thread block covers; group blocks vary
// fastest so that neighbouring blocks read the same pixels.
struct PipeBlock {
  int64_t m0;  // first pixel (row of the implicit GEMM)
  int g0;      // first group
};

template <int CG, int KG>
__host__ __device__ __forceinline__ PipeBlock PipeBlockAt(const ConvDims& d, int64_t block) {
  const int gblocks = d.G() / PipeShape<CG, KG>::kGB;
  PipeBlock b;
  b.g0 = static_cast<int>(block % gblocks) * PipeShape<CG, KG>::kGB;
  b.m0 = (block / gblocks) * PipeShape<CG, KG>::kBM;
  return b;
}

// One 16-byte copy from global into shared memory; `src` is an element offset
// into x or w, and an invalid copy zero-fills its destination.
struct PipeCopy {
  int dst;  // element offset into the stage buffers
  int64_t src;
  bool from_w;  // src indexes the packed weights, else x
  bool valid;
};

// Copy i (0 <= i < PipeCopyCount) of reduction stage `it` for this block.
template <int CG, int KG>
__host__ __device__ __forceinline__ int PipeCopyCount() {
  using S = PipeShape<CG, KG>;
  return S::kTPS * S::kBM * (S::kCB / 8) + S::kTPS * S::kGB * (KG * CG / 8);
}

template <int CG, int KG>
__host__ __device__ __forceinline__ PipeCopy PipeCopyAt(const ConvDims& d, const PipeBlock& b, int it, int i) {
  using S = PipeShape<CG, KG>;
  const int buffer = PipeBuffer<CG, KG>(it) * S::kStageElems;
  constexpr int kAChunks = S::kCB / 8;
  constexpr int kACopies = S::kTPS * S::kBM * kAChunks;
  PipeCopy c;
  c.src = 0;
  c.from_w = i >= kACopies;
  c.valid = false;
  if (i < kACopies) {
    const int cc = i % kAChunks, m = (i / kAChunks) % S::kBM, tt = i / (kAChunks * S::kBM);
    c.dst = buffer + (tt * S::kBM + m) * S::kARow + cc * 8;
    const int t = it * S::kTPS + tt;
    const int64_t pix = b.m0 + m;
    if (t >= d.R * d.S || pix >= int64_t(d.N) * d.P * d.Q) return c;
    const int q = static_cast<int>(pix % d.Q), p = static_cast<int>((pix / d.Q) % d.P);
    const int64_t n = pix / (int64_t(d.Q) * d.P);
    const int h = p * d.sh - d.pt + (t / d.S) * d.dh, w = q * d.sw - d.pl + (t % d.S) * d.dw;
    if (h < 0 || h >= d.H || w < 0 || w >= d.W) return c;
    c.src = ((n * d.H + h) * d.W + w) * d.C + int64_t(b.g0) * CG + cc * 8;
    c.valid = true;
    return c;
  }
  i -= kACopies;
  constexpr int kWChunks = KG * CG / 8;
  const int e = i % kWChunks, gl = (i / kWChunks) % S::kGB, tt = i / (kWChunks * S::kGB);
  c.dst = buffer + S::kAStage + (tt * S::kGB + gl) * KG * CG + e * 8;
  const int t = it * S::kTPS + tt;
  if (t >= d.R * d.S) return c;
  c.src = (int64_t(b.g0 + gl) * d.R * d.S + t) * (KG * CG) + e * 8;
  c.valid = true;
  return c;
}

// 32 bits holding two consecutive shared-memory elements.
template <typename T>
__host__ __device__ __forceinline__ uint32_t PipePair(const T* p) {
#ifdef __CUDA_ARCH__
  return *reinterpret_cast<const uint32_t*>(p);
#else
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#endif
}

// A fragment of warp `warp`, group gl of the block, k16 step kc, from buffer `buffer`.
template <int CG, int KG, typename T>
__host__ __device__ __forceinline__ void PipeFragA(const T* smem, int buffer, int warp, int lane, int gl, int kc,
                                                   uint32_t a[4]) {
  using S = PipeShape<CG, KG>;
  const T* A = smem + buffer * S::kStageElems;
  const int row = (warp % S::kWM) * 16 + lane / 4;
  for (int half = 0; half < 2; half++) {
    const int kk = kc * 16 + 2 * (lane % 4) + 8 * half;
    const int tt = kk / CG, c = kk % CG;
    const T* p = A + (tt * S::kBM + row) * S::kARow + gl * CG + c;
    a[2 * half] = PipePair(p);
    a[2 * half + 1] = PipePair(p + 8 * S::kARow);
  }
}

// B fragment of n-tile j (output channels j*8..j*8+7 of group gl); zero past K/G.
template <int CG, int KG, typename T>
__host__ __device__ __forceinline__ void PipeFragB(const T* smem, int buffer, int lane, int gl, int kc, int j,
                                                   uint32_t b[2]) {
  using S = PipeShape<CG, KG>;
  const int n = j * 8 + lane / 4;
  if (n >= KG) {
    b[0] = b[1] = 0u;
    return;
  }
  const T* W = smem + buffer * S::kStageElems + S::kAStage;
  for (int half = 0; half < 2; half++) {
    const int kk = kc * 16 + 2 * (lane % 4) + 8 * half;
    const int tt = kk / CG, c = kk % CG;
    b[half] = PipePair(W + ((tt * S::kGB + gl) * KG + n) * CG + c);
  }
}

// The block's group gl that warp `warp` computes as its i-th group.
template <int CG, int KG>
__host__ __device__ __forceinline__ int PipeWarpGroup(int warp, int i) {
  using S = PipeShape<CG, KG>;
  return (warp / S::kWM) * S::kGW + i;
}

// One warp's k16 steps over a stage buffer, the same order for the kernel and
// the emulator: for each of the warp's groups and each k16 step, load_a(gl, kc)
// loads the A fragment, then step(i, gl, kc, j) loads the B fragment of n-tile
// j and accumulates into the warp's i-th group.
#ifdef __CUDACC__
#pragma nv_exec_check_disable
#endif
template <int CG, int KG, class LoadA, class Step>
__host__ __device__ __forceinline__ void PipeWarpSteps(int warp, LoadA&& load_a, Step&& step) {
  using S = PipeShape<CG, KG>;
#pragma unroll
  for (int i = 0; i < S::kGW; i++) {
    const int gl = PipeWarpGroup<CG, KG>(warp, i);
#pragma unroll
    for (int kc = 0; kc < S::kChunks; kc++) {
      load_a(gl, kc);
#pragma unroll
      for (int j = 0; j < S::kNT; j++) step(i, gl, kc, j);
    }
  }
}

// The block's main loop, the same for the kernel and the emulator. Exec
// supplies Issue(it) (every thread's copies of stage it), Commit() (closes the
// copy group), Wait() (until at most kStages - 2 groups are pending, then a
// block barrier) and Compute(buffer) (every warp's k16 steps over a buffer).
#ifdef __CUDACC__
#pragma nv_exec_check_disable  // Exec is host-only in the emulator, device-only in the kernel
#endif
template <int CG, int KG, class Exec>
__host__ __device__ __forceinline__ void PipeMainloop(const ConvDims& d, Exec& ex) {
  using S = PipeShape<CG, KG>;
  const int iters = PipeIterations<CG, KG>(d);
  for (int s = 0; s < S::kStages - 1; s++) {
    if (s < iters) ex.Issue(s);
    ex.Commit();  // empty groups too, so that Wait's count stays in step
  }
  for (int it = 0; it < iters; it++) {
    ex.Wait();
    // The buffer refilled here was read by Compute(it - 1), which every warp
    // has finished at Wait's barrier.
    const int next = it + S::kStages - 1;
    if (next < iters) ex.Issue(next);
    ex.Commit();
    ex.Compute(PipeBuffer<CG, KG>(it));
  }
}

// bias, residual and a ReLU that keeps NaN (a NaN input must not come out as 0).
template <typename T>
__host__ __device__ __forceinline__ float FusedEpilogue(float v, const float* bias, int k, const T* residual, int64_t o,
                                                        int relu) {
  if (bias) v += bias[k];
  if (residual) v += ToFloat(residual[o]);
  if (relu) v = v < 0.f ? 0.f : v;
  return v;
}

// Epilogue of one lane's accumulator for (group gl, n-tile j): the two pixel
// rows (gid, gid+8) x the channel pair 2*tig, 2*tig+1.
template <int CG, int KG, typename T>
__host__ __device__ __forceinline__ void PipeStore(const ConvDims& d, const PipeBlock& b, int warp, int lane, int gl,
                                                   int j, const float acc[4], const float* bias, const T* residual,
                                                   T* y) {
  using S = PipeShape<CG, KG>;
  const int n = j * 8 + 2 * (lane % 4);
  if (n >= KG) return;
  const int k = (b.g0 + gl) * KG + n;
  const int64_t M = int64_t(d.N) * d.P * d.Q;
  for (int i = 0; i < 2; i++) {
    const int64_t m = b.m0 + (warp % S::kWM) * 16 + lane / 4 + 8 * i;
    if (m >= M) continue;
    const int64_t o = m * d.K + k;
    for (int e = 0; e < 2; e++)
      y[o + e] = FromFloat<T>(FusedEpilogue(acc[2 * i + e], bias, k + e, residual, o + e, d.relu));
  }
}

}  // namespace cuda
}  // namespace resnext
