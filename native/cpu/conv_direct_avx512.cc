// Generic direct grouped convolution compiled for the avx512 ISA; the algorithm
// and layout are described in conv_direct.inc. This is the fallback that
// accepts every convolution; faster shape-specific kernels rank above it.
#include <cstdint>

#include "resnext/conv_kernel.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {
#include "conv_direct.inc"
}  // namespace

extern const ConvImpl kConvDirectAvx512 = {"direct_avx512",  20,         Isa::kAvx512, DirectUnsupported,
                                           DirectPackedSize, DirectPack, DirectRun};
}  // namespace resnext
#pragma GCC pop_options
