// Direct grouped convolution for few channels per group (Cg < 16), portable C++
// for any CPU: one output pixel per "vector", 4 output channels x 4 pixels of
// accumulators. Same algorithm and layouts as the SIMD files: conv_grouped.inc.
#include <atomic>
#include <cstdint>
#include <cstring>

#include "resnext/conv_kernel.h"

namespace resnext {
namespace {

#include "simd_scalar.inc"
#include "conv_grouped.inc"

}  // namespace

extern const ConvImpl kConvGroupedScalar = {"grouped_scalar",  40,          Isa::kScalar, GroupedUnsupported,
                                            GroupedPackedSize, GroupedPack, GroupedRun};
}  // namespace resnext
