// Generic direct grouped convolution compiled for the scalar ISA; the algorithm
// and layout are described in conv_direct.inc. This is the fallback that
// accepts every convolution; faster shape-specific kernels rank above it.
#include <cstdint>

#include "resnext/conv_kernel.h"

#pragma GCC push_options

namespace resnext {
namespace {
#include "conv_direct.inc"
}  // namespace

extern const ConvImpl kConvDirectScalar = {"direct_scalar",  0,          Isa::kScalar, DirectUnsupported,
                                           DirectPackedSize, DirectPack, DirectRun};
}  // namespace resnext
#pragma GCC pop_options
