// Host-side weight packing for the GPU plans (create once): OIHW float32 from
// JS into the layout each kernel reads. See conv_grouped.h for the layouts.
#include "cuda/conv_grouped.h"

namespace resnext {
namespace cuda {

void PackWeightsRSCK(const float* oihw, const ConvParams& p, float* out) {
  const int64_t K = p.K, Cg = p.Cg(), R = p.R, S = p.S;
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < Cg; c++)
      for (int64_t r = 0; r < R; r++)
        for (int64_t s = 0; s < S; s++) out[((r * S + s) * Cg + c) * K + k] = oihw[((k * Cg + c) * R + r) * S + s];
}

void PackWeightsKRSC(const float* oihw, const ConvParams& p, float* out) {
  const int64_t K = p.K, Cg = p.Cg(), R = p.R, S = p.S;
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < Cg; c++)
      for (int64_t r = 0; r < R; r++)
        for (int64_t s = 0; s < S; s++) out[((k * R + r) * S + s) * Cg + c] = oihw[((k * Cg + c) * R + r) * S + s];
}

void PackWeightsGRSKC(const float* oihw, const ConvParams& p, float* out) {
  const int64_t G = p.G, Kg = p.Kg(), Cg = p.Cg(), R = p.R, S = p.S;
  for (int64_t g = 0; g < G; g++)
    for (int64_t kk = 0; kk < Kg; kk++)
      for (int64_t c = 0; c < Cg; c++)
        for (int64_t r = 0; r < R; r++)
          for (int64_t s = 0; s < S; s++)
            out[(((g * R + r) * S + s) * Kg + kk) * Cg + c] = oihw[(((g * Kg + kk) * Cg + c) * R + r) * S + s];
}

}  // namespace cuda
}  // namespace resnext
