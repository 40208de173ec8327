// Direct convolution for at most 4 input channels (the network stem), output
// pixels in the lanes and output channels in registers; portable C++ for any CPU: one column per "vector", tiles of 4
// channels x 4 columns. Algorithm and layouts: conv_stem.inc.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>

#include "resnext/conv_kernel.h"

#pragma GCC push_options

namespace resnext {
namespace {

#include "vec_scalar.inc"
constexpr int kStemKB = 4, kStemT = 4;
#include "conv_stem.inc"

}  // namespace

extern const ConvImpl kConvStemScalar = {"stem_scalar",  28,       Isa::kScalar, StemUnsupported,
                                         StemPackedSize, StemPack, StemRun};
}  // namespace resnext
#pragma GCC pop_options
