// Per-environment state of the CPU addon (napi instance data): the main thread
// and every worker_thread that loads the addon get their own. Holding the
// thread pool here means a thread count set in one environment leaves the
// others alone, and an environment that goes away (a worker exiting or being
// terminated) joins its pool's threads in the instance-data finalizer, before
// Node can unload the addon's code under them. Node runs that finalizer only
// after the environment's in-flight async work has completed.
#pragma once

#include <napi.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "resnext/thread_pool.h"

namespace resnext_napi {

// Native buffers for the copies async calls make (layer_worker.h), kept for
// reuse: a fresh allocation of a large buffer costs a page fault per 4 KiB
// on first touch, which measured as much as the copy itself. Used on the JS
// thread only (workers are created and destroyed there), so no lock.
class StagingPool {
 public:
  // A buffer of at least n floats (n >= 1).
  std::unique_ptr<float[]> Acquire(size_t n, size_t* capacity) {
    size_t best = free_.size();
    for (size_t i = 0; i < free_.size(); ++i)
      if (free_[i].capacity >= n && free_[i].capacity <= 2 * n &&
          (best == free_.size() || free_[i].capacity < free_[best].capacity))
        best = i;
    if (best < free_.size()) {
      std::unique_ptr<float[]> b = std::move(free_[best].data);
      *capacity = free_[best].capacity;
      kept_ -= *capacity;
      free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
      return b;
    }
    *capacity = n;
    return std::unique_ptr<float[]>(new float[n]);
  }

  // Returns a buffer; the oldest kept ones are freed beyond kMaxKept floats.
  void Release(std::unique_ptr<float[]> data, size_t capacity) {
    if (capacity > kMaxKept) return;
    free_.push_back(Entry{std::move(data), capacity});
    kept_ += capacity;
    while (kept_ > kMaxKept) {
      kept_ -= free_.front().capacity;
      free_.erase(free_.begin());
    }
  }

 private:
  static constexpr size_t kMaxKept = size_t{64} << 20;  // floats (256 MiB)
  struct Entry {
    std::unique_ptr<float[]> data;
    size_t capacity;
  };
  std::vector<Entry> free_;
  size_t kept_ = 0;
};

struct AddonData {
  std::unique_ptr<resnext::ThreadPool> pool;  // created on first use
  StagingPool staging;
};

// Installs the environment's AddonData (once, from the module's Init).
void InitAddonData(Napi::Env env);

// The environment's thread pool (created with ThreadPool::DefaultThreads() on first use).
resnext::ThreadPool& PoolOf(Napi::Env env);

// The environment's staging buffers.
inline StagingPool& StagingOf(Napi::Env env) { return env.GetInstanceData<AddonData>()->staging; }

}  // namespace resnext_napi
