// Pooling kernels (resnext/pool_kernels.h), avx512: 16 channels per zmm.
// Algorithms and layouts: pool_kernels.inc.
#include <cstdint>

#include "resnext/pool_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
namespace resnext {
namespace {

#include "pool_kernels.inc"

}  // namespace

extern const PoolKernels kPoolKernelsAvx512 = {"pool_avx512", Isa::kAvx512, MaxPoolBlock, AvgPlanes, AvgBlock};

}  // namespace resnext
#pragma GCC pop_options
