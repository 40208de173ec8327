// 1x1 convolution on NCHW8c, AVX2 + FMA: 8 channels per block (one ymm), 6
// pixels x 2 output blocks per micro-tile (12 ymm accumulators, 2 weight
// vectors, 1 broadcast input). Algorithm and layouts: conv_blocked1x1.inc.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>

#include <immintrin.h>

#include "resnext/conv_blocked.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

constexpr int CB = 8;
constexpr int NP = 6;
using V = __m256;
inline V VZero() { return _mm256_setzero_ps(); }
inline V VLoad(const float* p) { return _mm256_loadu_ps(p); }
inline void VStore(float* p, V v) { _mm256_storeu_ps(p, v); }
inline V VFma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V VBcast(const float* p) { return _mm256_broadcast_ss(p); }
inline V VAdd(V a, V b) { return _mm256_add_ps(a, b); }
// x < 0 ? 0 : x: the compare is false for NaN, which passes through.
inline V VRelu(V a) {
  const V z = _mm256_setzero_ps();
  return _mm256_blendv_ps(a, z, _mm256_cmp_ps(a, z, _CMP_LT_OQ));
}

#include "conv_blocked1x1.inc"
}  // namespace

extern const BlockedConv kBlockedConv1x1Avx2 = {"conv1x1_nchw8c_avx2", Isa::kAvx2,          CB,
                                                Blocked1x1Unsupported, Blocked1x1PackedSize, Blocked1x1Pack,
                                                Blocked1x1Run};
extern const ConvImpl kConvBlocked1x1Avx2 = {"conv1x1_nchw8c_avx2", 0, Isa::kAvx2, Blocked1x1Unsupported,
                                             Blocked1x1PackedSize,  Blocked1x1Pack, Blocked1x1RunNchw};
}  // namespace resnext
#pragma GCC pop_options
