// 1x1 convolution on NCHW8c, portable C++: a "vector" is 8 floats in a
// struct (the compiler may use whatever SIMD the baseline target has), 4
// pixels x 2 output blocks per micro-tile. Algorithm and layouts:
// conv_blocked1x1.inc.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <utility>

#include "resnext/conv_blocked.h"

namespace resnext {
namespace {

constexpr int CB = 8;
constexpr int NP = 4;
struct V {
  float v[CB];
};
inline V VZero() { return V{}; }
inline V VLoad(const float* p) {
  V r;
  for (int i = 0; i < CB; ++i) r.v[i] = p[i];
  return r;
}
inline void VStore(float* p, const V& a) {
  for (int i = 0; i < CB; ++i) p[i] = a.v[i];
}
inline V VFma(const V& a, const V& b, const V& c) {
  V r;
  for (int i = 0; i < CB; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
  return r;
}
inline V VBcast(const float* p) {
  V r;
  for (int i = 0; i < CB; ++i) r.v[i] = *p;
  return r;
}
inline V VAdd(const V& a, const V& b) {
  V r;
  for (int i = 0; i < CB; ++i) r.v[i] = a.v[i] + b.v[i];
  return r;
}
// x < 0 ? 0 : x: NaN passes through.
inline V VRelu(const V& a) {
  V r;
  for (int i = 0; i < CB; ++i) r.v[i] = a.v[i] < 0.0f ? 0.0f : a.v[i];
  return r;
}

#include "conv_blocked1x1.inc"
}  // namespace

extern const BlockedConv kBlockedConv1x1Scalar = {"conv1x1_nchw8c_scalar", Isa::kScalar,         CB,
                                                  Blocked1x1Unsupported,   Blocked1x1PackedSize, Blocked1x1Pack,
                                                  Blocked1x1Run};
extern const ConvImpl kConvBlocked1x1Scalar = {"conv1x1_nchw8c_scalar", 0, Isa::kScalar, Blocked1x1Unsupported,
                                               Blocked1x1PackedSize,    Blocked1x1Pack, Blocked1x1RunNchw};
}  // namespace resnext
