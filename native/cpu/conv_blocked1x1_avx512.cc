// 1x1 convolution on NCHW16c, AVX-512: 16 channels per block (one zmm), 14
// pixels x 2 output blocks per micro-tile (28 zmm accumulators, 2 weight
// vectors, input broadcast from memory into the FMA). Algorithm and layouts:
// conv_blocked1x1.inc.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>

#include <immintrin.h>

#include "resnext/conv_blocked.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

constexpr int CB = 16;
constexpr int NP = 14;
using V = __m512;
inline V VZero() { return _mm512_setzero_ps(); }
inline V VLoad(const float* p) { return _mm512_loadu_ps(p); }
inline void VStore(float* p, V v) { _mm512_storeu_ps(p, v); }
inline V VFma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V VBcast(const float* p) { return _mm512_set1_ps(*p); }
inline V VAdd(V a, V b) { return _mm512_add_ps(a, b); }
// x < 0 ? 0 : x: the compare is false for NaN, which passes through.
inline V VRelu(V a) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_LT_OQ), a, _mm512_setzero_ps());
}

#include "conv_blocked1x1.inc"
}  // namespace

extern const BlockedConv kBlockedConv1x1Avx512 = {"conv1x1_nchw16c_avx512", Isa::kAvx512,         CB,
                                                  Blocked1x1Unsupported,    Blocked1x1PackedSize, Blocked1x1Pack,
                                                  Blocked1x1Run};
extern const ConvImpl kConvBlocked1x1Avx512 = {"conv1x1_nchw16c_avx512", 0, Isa::kAvx512, Blocked1x1Unsupported,
                                               Blocked1x1PackedSize,     Blocked1x1Pack,    Blocked1x1RunNchw};
}  // namespace resnext
#pragma GCC pop_options
