// Sets glibc's malloc mmap and trim thresholds once per process (see
// resnext/malloc_policy.h for why and when).
#include "resnext/malloc_policy.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#endif

namespace resnext {

namespace {

// See the header for why these two values. The trim threshold is what glibc's
// dynamic rule pairs with its largest mmap threshold (2 x 32 MiB on 64-bit).
constexpr int64_t kMmapThreshold = int64_t{2} << 20;
constexpr int64_t kTrimThreshold = int64_t{64} << 20;

MallocPolicy Decide() {
  MallocPolicy p;
#if defined(__linux__) && defined(__GLIBC__)
  if (const char* v = std::getenv("RESNEXT_MALLOC_TUNING"); v != nullptr && std::strcmp(v, "0") == 0) {
    p.reason = "RESNEXT_MALLOC_TUNING=0";
    return p;
  }
  // The process chose its own thresholds: leave them.
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t != nullptr && (std::strstr(t, "glibc.malloc.mmap_threshold") ||
                                                                      std::strstr(t, "glibc.malloc.trim_threshold"))) {
    p.reason = "GLIBC_TUNABLES sets the malloc thresholds";
    return p;
  }
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr) {
    p.reason = "MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ is set";
    return p;
  }
  // mallopt returns 1 on success; a sanitizer's malloc (ASan) refuses it.
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThreshold)) != 1 ||
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThreshold)) != 1) {
    p.reason = "mallopt refused the thresholds (not glibc's malloc)";
    return p;
  }
  p.tuned = true;
  p.mmap_threshold = kMmapThreshold;
  p.trim_threshold = kTrimThreshold;
#else
  p.reason = "not glibc";
#endif
  return p;
}

}  // namespace

const MallocPolicy& ApplyMallocPolicy() {
  static const MallocPolicy policy = Decide();  // C++11: initialized once, thread-safe
  return policy;
}

}  // namespace resnext
