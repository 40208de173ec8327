// Grouped 3x3 convolution, stride 1, padding 1, few channels per group (Cg <
// 16), reading the NCHW input in place; portable C++ for any CPU: one output
// pixel per "vector", 4 output channels x 4 pixels of accumulators.
// Algorithm and layouts: conv_grouped3x3s1.inc.
#include <cstdint>
#include <cstring>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
namespace resnext {
namespace {

#include "simd_scalar.inc"
#include "conv_grouped3x3s1.inc"

}  // namespace

extern const ConvImpl kConvGrouped3x3s1Scalar = {"grouped3x3s1_scalar", 65,          Isa::kScalar, G3Unsupported,
                                                 GroupedPackedSize,     GroupedPack, G3Run};
}  // namespace resnext
#pragma GCC pop_options
