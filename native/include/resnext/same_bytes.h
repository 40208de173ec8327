// Exact equality of two byte ranges, split over the thread pool.
//
// Why: the one-shot conv2d() reuses a prepared plan while the caller's weights
// still hold the values it was packed from, which it checks byte for byte
// against a private copy on every call (lib/ops/conv2d_cache.ts). For
// ResNeXt-50's larger grouped layers that compare (0.3-1.2 MB, both copies
// mostly from L3) is a sixth to a third of the call on one core; two cores
// read L3 nearly twice as fast.
#pragma once

#include <cstdint>

#include "resnext/thread_pool.h"

namespace resnext {

// Ranges shorter than this are compared on the calling thread: below it the
// pool's fork and join cost about what the second core saves.
constexpr int64_t kSameBytesParallelMin = int64_t{256} << 10;

// True when the n bytes at a and b are identical (memcmp order is not needed:
// equal or not). Runs on `pool` (one job, the caller taking part) when n is at
// least kSameBytesParallelMin; pool must not be running a job for this thread.
bool SameBytes(const void* a, const void* b, int64_t n, ThreadPool& pool);

}  // namespace resnext
