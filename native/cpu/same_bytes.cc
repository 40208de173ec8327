// SameBytes (resnext/same_bytes.h): memcmp over contiguous chunks, one chunk
// per task, a shared flag so the remaining tasks skip their chunk once one
// differs. Inputs: two plain byte ranges of equal length, any alignment.
#include "resnext/same_bytes.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace resnext {

bool SameBytes(const void* a, const void* b, int64_t n, ThreadPool& pool) {
  if (n <= 0 || a == b) return true;
  const auto* pa = static_cast<const unsigned char*>(a);
  const auto* pb = static_cast<const unsigned char*>(b);
  const int threads = pool.NumThreads();
  if (n < kSameBytesParallelMin || threads < 2) return std::memcmp(pa, pb, static_cast<size_t>(n)) == 0;
  // A few chunks per thread (whole cache lines) so a thread slowed by another
  // process leaves its share to the other rather than holding up the answer.
  const int64_t tasks = int64_t{threads} * 4;
  const int64_t chunk = ((n + tasks - 1) / tasks + 63) & ~int64_t{63};
  std::atomic<bool> differ{false};
  pool.Run((n + chunk - 1) / chunk, [&](int64_t t, int) {
    if (differ.load(std::memory_order_relaxed)) return;
    const int64_t lo = t * chunk;
    const int64_t len = std::min(chunk, n - lo);
    if (std::memcmp(pa + lo, pb + lo, static_cast<size_t>(len)) != 0) differ.store(true, std::memory_order_relaxed);
  });
  return !differ.load();
}

}  // namespace resnext
