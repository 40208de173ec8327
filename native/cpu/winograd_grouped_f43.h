// Entry points of the grouped Winograd F(4x4, 3x3) kernels
// (conv_winograd_grouped_f43_avx512.cc, conv_winograd_grouped_f43x4_avx512.cc). It is not a registry row of its
// own: winograd_grouped_avx512 packs both tile sizes and picks one per run
// from the output size, which a plan does not know when it is created.
#pragma once

#include <cstdint>

#include "resnext/conv_kernel.h"

namespace resnext {

// Floats of the F(4x4) packed weights, [G][36 pos][ceil(Kg/16)][Cg][16].
int64_t WinogradGroupedF43PackedSize(const ConvParams& p);
void WinogradGroupedF43Pack(const ConvParams& p, const float* weight, float* packed);
// a.packed_weights points at what WinogradGroupedF43Pack wrote. Same
// preconditions as winograd_grouped_avx512 (3x3, stride 1, dilation 1,
// groups > 1, 14..128 channels per group); needs AVX-512.
Status WinogradGroupedF43Run(const ConvRunArgs& a, ThreadPool& pool);

// F(4x4) with four images per vector (conv_winograd_grouped_f43x4_avx512.cc),
// for outputs of at most 8x8 (Fits); same weights and preconditions.
bool WinogradGroupedF43x4Fits(const ConvParams& p);
Status WinogradGroupedF43x4Run(const ConvRunArgs& a, ThreadPool& pool);

}  // namespace resnext
