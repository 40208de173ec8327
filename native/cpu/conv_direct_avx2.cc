// Generic direct grouped convolution compiled for the avx2 ISA; the algorithm
// and layout are described in conv_direct.inc. This is the fallback that
// accepts every convolution; faster shape-specific kernels rank above it.
#include <cstdint>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {
#include "conv_direct.inc"
}  // namespace

extern const ConvImpl kConvDirectAvx2 = {"direct_avx2",    10,         Isa::kAvx2, DirectUnsupported,
                                         DirectPackedSize, DirectPack, DirectRun};
}  // namespace resnext
#pragma GCC pop_options
