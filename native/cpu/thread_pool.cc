// Fork-join pool (see thread_pool.h). Workers spin briefly on the job
// generation before sleeping on a condition variable: layer-sized jobs last
// tens of microseconds, and a futex wake-up per job would cost as much.
#include "resnext/thread_pool.h"

#include <chrono>
#include <cstdlib>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RESNEXT_PAUSE() _mm_pause()
#else
#define RESNEXT_PAUSE() std::this_thread::yield()
#endif

namespace resnext {

namespace {
// sched_yield calls before a waiting thread sleeps (each costs ~1 us when the core is idle).
constexpr int kYieldSpins = 2000;
// next_ between runs: any claim fails.
constexpr int64_t kClosed = int64_t{1} << 62;
}  // namespace

int ThreadPool::HardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool& ThreadPool::Global() {
  // Leaked on purpose: joining threads from a static destructor at process exit
  // races with Node's own teardown.
  static ThreadPool* pool = [] {
    int n = HardwareThreads();
    if (const char* env = std::getenv("RESNEXT_NUM_THREADS")) {
      int v = std::atoi(env);
      if (v > 0) n = v;
    }
    return new ThreadPool(n);
  }();
  return *pool;
}

ThreadPool::ThreadPool(int num_threads) {
  num_threads_ = num_threads < 1 ? HardwareThreads() : num_threads;
  scratch_.resize(num_threads_);
  StartWorkers();
}

ThreadPool::~ThreadPool() {
  StopWorkers();
  for (auto& s : scratch_) std::free(s.data);
}

void ThreadPool::StartWorkers() {
  stop_ = false;
  // The generation is read here, not in the new thread: a Run that starts
  // before the thread is scheduled must still be seen as new work.
  const uint64_t gen = generation_.load();
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i, gen] { WorkerLoop(i, gen); });
}

void ThreadPool::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::SetNumThreads(int n) {
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  if (n < 1) n = HardwareThreads();
  if (n == num_threads_) return;
  StopWorkers();
  num_threads_ = n;
  if (static_cast<int>(scratch_.size()) < n) scratch_.resize(n);
  StartWorkers();
}

float* ThreadPool::Scratch(int thread_index, int64_t floats) {
  ScratchBuf& s = scratch_[thread_index];
  if (s.capacity < floats) {
    std::free(s.data);
    size_t bytes = static_cast<size_t>(floats) * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    s.data = static_cast<float*>(std::aligned_alloc(64, bytes));
    s.capacity = s.data ? floats : 0;
  }
  return s.data;
}

// Claims and runs tasks until none is left. Claims take a run of consecutive
// tasks, an eighth of what is left per thread (at least one): a task can be
// as short as a microsecond (a depthwise channel plane), and a claim is an
// atomic on a line the other threads write too, which on 2 cores cost as much
// as the task (1024 such tasks ran slower on 2 threads than on 1).
// Consecutive tasks also touch adjacent memory, so a run streams.
// Completion is counted per thread, once it finds no task left (done_), so
// Run waits for the tasks, not for every worker to check in: a worker
// descheduled before it claimed anything (a loaded machine) costs nothing.
// Before a claim n_tasks_ only sizes it (a late worker may see the previous
// run's); task_ and the n_tasks_ that bounds the claimed tasks are read after
// a successful claim, which synchronises with the Run that opened the claims.
// Between runs next_ holds kClosed, so a late worker's claim fails.
void ThreadPool::Drain(int thread_index) {
  const int64_t divisor = 8 * static_cast<int64_t>(num_threads_);
  int64_t ran = 0, total = 0;
  int64_t i = next_.load(std::memory_order_acquire);
  for (;;) {
    if (i >= kClosed) break;
    const int64_t hint = n_tasks_.load(std::memory_order_relaxed);  // may be stale: only sizes the claim
    if (i >= hint) break;
    int64_t c = (hint - i) / divisor;
    if (c < 1) c = 1;
    if (!next_.compare_exchange_weak(i, i + c, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    total = n_tasks_.load(std::memory_order_relaxed);
    const int64_t end = i + c < total ? i + c : total;
    for (int64_t j = i; j < end; ++j) (*task_)(j, thread_index);
    if (end > i) ran += end - i;
    i = next_.load(std::memory_order_acquire);
  }
  if (ran > 0 && done_.fetch_add(ran, std::memory_order_acq_rel) + ran == total) {
    std::lock_guard<std::mutex> lock(mu_);
    done_cv_.notify_one();
  }
}

void ThreadPool::WorkerLoop(int index, uint64_t seen) {
  for (;;) {
    // Spin for a while (back-to-back runs find the worker awake), then sleep.
    // No yield phase here: on a loaded machine each yield can hand the core to
    // another process for a whole time slice, and the worker would miss short
    // runs; a sleeping worker is woken promptly by the notify instead.
    bool woke = false;
    for (int spin = 0; spin < 20000; ++spin) {
      if (generation_.load(std::memory_order_acquire) != seen) {
        woke = true;
        break;
      }
      RESNEXT_PAUSE();
    }
    if (!woke) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_) return;
    Drain(index);
  }
}

void ThreadPool::Run(int64_t n_tasks, const TaskFn& task) {
  if (n_tasks <= 0) return;
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  if (num_threads_ == 1 || n_tasks == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) task(i, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    task_ = &task;
    n_tasks_ = n_tasks;
    done_.store(0);
    next_.store(0, std::memory_order_release);  // opens the run: after task_, n_tasks_, done_
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  Drain(0);
  // Wait for the tasks still running on workers: spin, then yield (so a
  // descheduled worker can run on this core), then sleep.
  for (int spin = 0; spin < 4000 + kYieldSpins && done_.load(std::memory_order_acquire) != n_tasks; ++spin) {
    if (spin < 4000) {
      RESNEXT_PAUSE();
    } else {
      std::this_thread::yield();
    }
  }
  if (done_.load(std::memory_order_acquire) != n_tasks) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return done_.load() == n_tasks; });
  }
  next_.store(kClosed, std::memory_order_release);
}

}  // namespace resnext
