// Per-environment state of the CPU addon (napi instance data): the main thread
// and every worker_thread that loads the addon get their own. Holding the
// thread pool here means a thread count set in one environment leaves the
// others alone, and an environment that goes away (a worker exiting or being
// terminated) joins its pool's threads in the instance-data finalizer, before
// Node can unload the addon's code under them. Node runs that finalizer only
// after the environment's in-flight async work has completed.
#pragma once

#include <napi.h>

#include <memory>

#include "resnext/thread_pool.h"

namespace resnext_napi {

struct AddonData {
  std::unique_ptr<resnext::ThreadPool> pool;  // created on first use
};

// Installs the environment's AddonData (once, from the module's Init).
void InitAddonData(Napi::Env env);

// The environment's thread pool (created with ThreadPool::DefaultThreads() on first use).
resnext::ThreadPool& PoolOf(Napi::Env env);

}  // namespace resnext_napi
