// Per-ISA bodies of the pooling layers, one table entry per ISA
// (native/cpu/pool_kernels_{avx512,avx2,scalar}.cc, all built from
// pool_kernels.inc); max_pool2d.cc and global_avg_pool.cc pick the entry the
// ISA cap allows (FindPoolKernels). Kernels assert only: the callers validate.
//
// Blocked layout: [N][ceil(C/cb)][H][W][cb], channel c of image n at block
// c / cb, lane c % cb; lanes past C are zero padding (never read as data).
#pragma once

#include <cstdint>

#include "resnext/cpu_features.h"
#include "resnext/max_pool2d.h"

namespace resnext {

struct PoolKernels {
  const char* name;
  Isa isa;
  // Max pool of one channel block of one image, output rows [p0, p1): x and y point at the block
  // ([H][W][cb] and [P][Q][cb]); cb is 16 or 8; col is scratch of p.W * cb floats. Windows are
  // clipped to the input (padding never wins); NaN propagates.
  void (*max_pool_block)(const MaxPool2dParams& p, int cb, const float* x, float* y, int64_t p0, int64_t p1,
                         float* col);
  // Mean of each of `planes` contiguous planes of hw floats (NCHW), summed in double.
  void (*avg_planes)(int64_t planes, int64_t hw, const float* x, float* y);
  // Mean over hw pixels of one channel block ([hw][cb], summed in double) into y[0 .. lanes), lanes <= cb.
  void (*avg_block)(int64_t hw, int cb, int64_t lanes, const float* x, float* y);
};

// The fastest entry the CPU and the ISA cap allow (the scalar one always qualifies).
const PoolKernels& FindPoolKernels();

}  // namespace resnext
