// Pooling kernels (resnext/pool_kernels.h), scalar: portable C++ for any CPU (SSE2 at most, from the baseline).
// Algorithms and layouts: pool_kernels.inc.
#include <cstdint>

#include "resnext/pool_kernels.h"

#pragma GCC push_options
namespace resnext {
namespace {

#include "pool_kernels.inc"

}  // namespace

extern const PoolKernels kPoolKernelsScalar = {"pool_scalar", Isa::kScalar, MaxPoolBlock, AvgPlanes, AvgBlock};

}  // namespace resnext
#pragma GCC pop_options
