// Convolution as GEMM (dense convs; grouped with >= 16 channels per group) for
// any CPU: a 4 x 4 scalar micro-kernel (16 accumulators; the compiler may use
// baseline SSE2). Algorithm and layouts: conv_gemm.inc.
#include <atomic>
#include <cassert>
#include <cstdint>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
namespace resnext {
namespace {

#include "vec_scalar.inc"

constexpr int MR = 4;
constexpr int NVMAX = 4;
constexpr int NVT = 0;  // no transposed micro-kernel (one lane per vector)
constexpr int MPT = 1;
constexpr int MPT1 = 1;
constexpr int ACC2 = 0;

// even[t] = src[2t] (t < n_even), odd[t] = src[2t + 1] (t < n_odd); n_even - n_odd in {0, 1}.
inline void Deinterleave2(const float* __restrict src, int64_t n_even, int64_t n_odd, float* __restrict even,
                          float* __restrict odd) {
  int64_t t = 0;
  for (; t < n_odd; ++t) {
    even[t] = src[2 * t];
    odd[t] = src[2 * t + 1];
  }
  for (; t < n_even; ++t) even[t] = src[2 * t];
}

// dst[t] = src[2t] for t < n.
inline void GatherEven(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t t = 0; t < n; ++t) dst[t] = src[2 * t];
}

inline int64_t GatherIndex(int64_t stride) { return stride; }
inline V VGatherN(const float* base, int64_t, int n) { return n > 0 ? *base : 0.0f; }

#include "conv_gemm_no_avx512.inc"
#include "conv_gemm.inc"
}  // namespace

extern const ConvImpl kConvGemmScalar = {
    "gemm_scalar", 25,      Isa::kScalar,          GemmUnsupported,     GemmPackedSize,
    GemmPack,      GemmRun, /*transformed=*/false, /*per_run=*/nullptr, /*residual_in_place=*/&GemmResidualInPlace};
}  // namespace resnext
#pragma GCC pop_options
