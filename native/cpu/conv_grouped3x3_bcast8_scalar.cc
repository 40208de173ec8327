// Grouped 3x3 convolution, stride 1 or 2, padding 1, dilation 1, with exactly
// 8 output channels per group, in plain C++, for CPUs without AVX2: each
// output sums its taps in the AVX variants' order, with a separate multiply
// and add where they fuse them. At stride 2 it skips the even/odd split that
// grouped3x3s2_scalar pays (1.30x on 256@56/s2). One output row x up to 8
// pixels x 8 output channels per block. Algorithm, tasks and layouts:
// conv_grouped3x3_bcast8.inc.
#include <cstdint>

#include "resnext/conv_kernel.h"

namespace resnext {
namespace {

constexpr int kMaxNQ = 8;  // output columns per block
constexpr int kRows = 1;   // output rows per block

#include "conv_grouped3x3_bcast8.inc"

struct Kernel {
  template <int S, int NQ, bool kLeft, bool kRight>
  static void Block(const Geo& g, int64_t Cg, const float* __restrict in, const float* __restrict w, const float* bias,
                    int64_t oh, bool /*two*/, int64_t q_first, float* out, const float* res, bool relu) {
    const int64_t q0 = kLeft ? 0 : q_first;
    float acc[NQ][kLanes];
    for (int j = 0; j < NQ; ++j) {
      for (int k = 0; k < kLanes; ++k) acc[j][k] = bias != nullptr ? bias[k] : 0.0f;
    }
    for (int64_t c = 0; c < Cg; ++c) {
      for (int r = 0; r < 3; ++r) {
        const float* x = InputRow(g, in + c * g.HW, S * oh + r - 1, S * q0);
        for (int s = 0; s < 3; ++s) {
          const float* wv = w + (c * 9 + r * 3 + s) * kLanes;
          const int j0 = s == 0 && kLeft ? 1 : 0, j1 = s == 2 && kRight ? NQ - 1 : NQ;
          for (int j = j0; j < j1; ++j) {
            const float xv = x[S * j + s - 1];
            for (int k = 0; k < kLanes; ++k) acc[j][k] += wv[k] * xv;
          }
        }
      }
    }
    const int64_t off = oh * g.Q + q0;
    for (int k = 0; k < kLanes; ++k) {
      for (int j = 0; j < NQ; ++j) {
        float v = acc[j][k];
        if (res != nullptr) v += res[k * g.PQ + off + j];
        if (relu && v < 0.0f) v = 0.0f;  // NaN stays NaN, as in torch.relu
        out[k * g.PQ + off + j] = v;
      }
    }
  }
};

}  // namespace

extern const ConvImpl kConvGrouped3x3Bcast8Scalar = {"grouped3x3_bcast8_scalar",
                                                     66,
                                                     Isa::kScalar,
                                                     Bcast8Unsupported,
                                                     Bcast8PackedSize,
                                                     Bcast8Pack,
                                                     Bcast8Run<Kernel>,
                                                     /*transformed=*/false,
                                                     /*per_run=*/nullptr,
                                                     /*residual_in_place=*/nullptr,
                                                     /*alternate=*/nullptr,
                                                     Bcast8SlowerAtStride1};
}  // namespace resnext
