// Depthwise 3x3 convolution, stride 1, padding 1, weights in registers and each
// input vector shared by the output rows that need it; portable C++ for any
// CPU: one column per "vector", blocks of 2 rows x 4 columns. Algorithm and
// layouts: conv_depthwise3x3.inc.
#include <cstdint>
#include <cstring>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
namespace resnext {
namespace {

#include "simd_scalar.inc"
constexpr int kDwWide = 4, kDwWideRB = 2;
constexpr int kDwMid = 2, kDwMidRB = 4;
constexpr int kDwNarrowRB = 8;
#include "conv_depthwise3x3.inc"

}  // namespace

extern const ConvImpl kConvDepthwise3x3Scalar = {"depthwise3x3_scalar", 75,     Isa::kScalar, DwUnsupported,
                                                 DwPackedSize,          DwPack, DwRun};
}  // namespace resnext
#pragma GCC pop_options
