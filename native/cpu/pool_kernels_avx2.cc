// Pooling kernels (resnext/pool_kernels.h), avx2: 8 channels per ymm (a block of 16 is two).
// Algorithms and layouts: pool_kernels.inc.
#include <cstdint>

#include "resnext/pool_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace resnext {
namespace {

#include "pool_kernels.inc"

}  // namespace

extern const PoolKernels kPoolKernelsAvx2 = {"pool_avx2", Isa::kAvx2, MaxPoolBlock, AvgPlanes, AvgBlock};

}  // namespace resnext
#pragma GCC pop_options
