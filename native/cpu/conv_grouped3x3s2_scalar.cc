// Grouped 3x3 convolution, stride 2, padding 1, few channels per group (Cg <
// 16), on per-task even/odd row and column planes; portable C++ for any CPU:
// one output pixel per "vector", 4 output channels x 4 pixels of accumulators.
// Algorithm and layouts: conv_grouped3x3s2.inc.
#include <atomic>
#include <cstdint>
#include <cstring>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
namespace resnext {
namespace {

#include "simd_scalar.inc"
#include "conv_grouped3x3s2.inc"

}  // namespace

extern const ConvImpl kConvGrouped3x3s2Scalar = {"grouped3x3s2_scalar", 65,          Isa::kScalar, S2Unsupported,
                                                 GroupedPackedSize,     GroupedPack, S2Run};
}  // namespace resnext
#pragma GCC pop_options
