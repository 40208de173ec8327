// The convolution's sizes as 32-bit ints for the kernels (the launchers check
// that every tensor fits), shared by the kernels and the host emulator.
#pragma once

#include "resnext/conv_params.h"

#ifdef __CUDACC__
#define RESNEXT_HD __host__ __device__
#else
#define RESNEXT_HD
#endif

namespace resnext {
namespace cuda {

struct ConvDims {
  int N, C, H, W, K, R, S, Cg, Kg, P, Q;
  int sh, sw, dh, dw, pt, pl;
  int relu;
  int groups;
  RESNEXT_HD int G() const { return groups; }
};

inline ConvDims MakeConvDims(const ConvParams& p) {
  return ConvDims{static_cast<int>(p.N),        static_cast<int>(p.C),        static_cast<int>(p.H),
                  static_cast<int>(p.W),        static_cast<int>(p.K),        static_cast<int>(p.R),
                  static_cast<int>(p.S),        static_cast<int>(p.Cg()),     static_cast<int>(p.Kg()),
                  static_cast<int>(p.P()),      static_cast<int>(p.Q()),      static_cast<int>(p.stride_h),
                  static_cast<int>(p.stride_w), static_cast<int>(p.dil_h),    static_cast<int>(p.dil_w),
                  static_cast<int>(p.pad_top),  static_cast<int>(p.pad_left), p.activation == Activation::kRelu ? 1 : 0,
                  static_cast<int>(p.G)};
}

}  // namespace cuda
}  // namespace resnext
