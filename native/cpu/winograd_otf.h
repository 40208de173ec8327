// Entry point shared by the two per-run-transform Winograd kernels
// (conv_winograd43_otf_avx512.cc, conv_winograd22_otf_avx512.cc), which read
// the same raw 3x3 taps (WgPackRawTaps): winograd43_otf_avx512 hands outputs
// of at most 8x8 to the F(2x2) run, as winograd_grouped_avx512 does with its
// packed weights (WgPrefersF43).
#pragma once

#include "resnext/conv_kernel.h"

namespace resnext {

// F(2x2, 3x3) on raw taps; a.packed_weights as WgPackRawTaps wrote them.
// Preconditions: winograd22_otf_avx512's (3x3, stride 1, dilation 1; dense
// with 14+ channels or 14 to 128 channels per group); needs AVX-512.
Status WinogradOtf22Run(const ConvRunArgs& a, ThreadPool& pool);

}  // namespace resnext
