// Direct grouped convolution for few channels per group (Cg < 16), portable C++
// for any CPU: one output pixel per "vector", 4 output channels x 4 pixels of
// accumulators. Same algorithm and layouts as the SIMD files: conv_grouped.inc.
#include <atomic>
#include <cstdint>
#include <cstring>

#include "resnext/conv_kernel.h"

namespace resnext {
namespace {

constexpr int kL = 1;
constexpr int kAccRegs = 16;
using V = float;
inline V VSet1(float x) { return x; }
inline V VLoadU(const float* p) { return *p; }
inline V VFma(V a, V b, V c) { return a * b + c; }
inline V VAdd(V a, V b) { return a + b; }
inline V VRelu(V a) { return a > 0.0f ? a : 0.0f; }
// With one lane the epilogue only runs for lo = 0, hi = 1.
inline bool VMask(int, int) { return true; }
inline V VLoadMasked(const float* p, bool) { return *p; }
inline void VStoreMasked(float* p, V v, bool) { *p = v; }
inline void ZeroFloats(float* dst, int64_t n) {
  if (n > 0) std::memset(dst, 0, static_cast<size_t>(n) * sizeof(float));
}
inline void CopyRow(float* __restrict dst, const float* __restrict src, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
inline void GatherStride2(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[2 * i];
}

#include "conv_grouped.inc"

}  // namespace

extern const ConvImpl kConvGroupedScalar = {"grouped_scalar", 40, Isa::kScalar, GroupedUnsupported, GroupedPackedSize,
                                           GroupedPack, GroupedRun};
}  // namespace resnext
