// Winograd F(2x2, 3x3) convolution (dense 3x3, stride 1, K >= 16) for any CPU:
// one tile per "vector", a 4 x 4 scalar micro-kernel (4 output channels x 4
// tiles; the compiler may use baseline SSE2). Algorithm and layouts:
// conv_winograd.inc.
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
namespace resnext {
extern const ConvImpl kConvGemmScalar;
namespace {

#include "vec_scalar.inc"

constexpr int MR = 4;
constexpr int NVMAX = 4;
constexpr int64_t TMAX = 16;     // tiles per task: four strips
constexpr int64_t TMAX_S2 = 16;  // stride 2 (conv_winograd_s2.inc)

// One lane: the even output column, then the odd one.
inline void Zip(V a, V b, V* lo, V* hi) {
  *lo = a;
  *hi = b;
}

// E[t] = src[2t], O[t] = src[2t + 1] for t < n.
inline void SplitEvenOdd(const float* __restrict src, int64_t n, float* __restrict E, float* __restrict O) {
  for (int64_t t = 0; t < n; ++t) {
    E[t] = src[2 * t];
    O[t] = src[2 * t + 1];
  }
}

// Element off of the two floats lo:hi.
inline V Extract2(V lo, V hi, int off) { return off == 0 ? lo : hi; }

struct IsaRowSplitter {};
constexpr bool kHasRowSplitter = false;  // SplitPaddedGeneric: scalar edges and middle

#include "conv_winograd.inc"
// SplitBy4 (conv_winograd_s2.inc) uses the generic two-level even/odd split.
constexpr bool kHasSplitBy4 = false;
inline void IsaSplitBy4(const float*, int64_t, int64_t, int64_t, float*, int64_t) {}
// Small stride-2 runs go to gemm (conv_winograd_s2.inc).
constexpr const ConvImpl* kWinoS2Fallback = &kConvGemmScalar;
#include "conv_winograd_s2.inc"
}  // namespace

extern const ConvImpl kConvWinogradScalar = {"winograd_scalar",  27,           Isa::kScalar, WinogradUnsupported,
                                             WinogradPackedSize, WinogradPack, WinogradRun,  /*transformed=*/true};
extern const ConvImpl kConvWinogradS2Scalar = {
    "winograd_s2_scalar",
    26,
    Isa::kScalar,
    WinogradS2Unsupported,
    WinogradS2PackedSize,
    WinogradS2Pack,
    WinogradS2Run,
    /*transformed=*/true,
    /*per_run=*/"runs of fewer than 192 tiles of 2x2 outputs (over the batch) use gemm_scalar's kernel"};
}  // namespace resnext
#pragma GCC pop_options
