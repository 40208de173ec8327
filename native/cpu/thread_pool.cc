// Fork-join pool (see thread_pool.h). Workers spin for up to 300 us on the job
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
// Task indices are packed in 32 bits per end of a range; larger runs are split.
constexpr int64_t kMaxRunTasks = int64_t{1} << 30;
// How long an idle worker spins for the next run before it sleeps, in wall
// time: a pause instruction lasts about 10 cycles on some x86 cores and about
// 140 on others, so a fixed count of pauses spun 20 us on one machine and
// 300 us on another, and where it was short a worker fell asleep between a
// network's layers (a futex wake-up per layer, tens of microseconds each on a
// VM). Longer is not better: on a machine with more runnable threads than
// cores a spinning worker holds a core the caller needs (resnext50 batch 1 on
// 2 busy cores, p50: 2 ms of spin 1.3x slower than 300 us).
// RESNEXT_POOL_SPIN_US overrides it (0: sleep at once).
constexpr int64_t kDefaultSpinUs = 300;

int64_t SpinBudgetNs() {
  static const int64_t ns = [] {
    int64_t us = kDefaultSpinUs;
    if (const char* env = std::getenv("RESNEXT_POOL_SPIN_US")) {
      char* end = nullptr;
      const long long v = std::strtoll(env, &end, 10);
      if (end != env && v >= 0) us = v;
    }
    return us * 1000;
  }();
  return ns;
}

// Spins until `generation` moves past `seen` or `budget_ns` pass. The clock is
// read once every 64 pauses (a few hundred nanoseconds to a few microseconds).
bool SpinForNewGeneration(const std::atomic<uint64_t>& generation, uint64_t seen, int64_t budget_ns) {
  if (budget_ns <= 0) return generation.load(std::memory_order_acquire) != seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(budget_ns);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (generation.load(std::memory_order_acquire) != seen) return true;
      RESNEXT_PAUSE();
    }
    if (std::chrono::steady_clock::now() >= deadline) return generation.load(std::memory_order_acquire) != seen;
  }
}

uint64_t PackRange(uint64_t lo, uint64_t hi) { return lo | (hi << 32); }
}  // namespace

int ThreadPool::HardwareThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int ThreadPool::DefaultThreads() {
  if (const char* env = std::getenv("RESNEXT_NUM_THREADS")) {
    int v = std::atoi(env);
    if (v > 0) return v;
  }
  return HardwareThreads();
}

ThreadPool::ThreadPool(int num_threads) {
  num_threads_ = num_threads < 1 ? HardwareThreads() : num_threads;
  scratch_.resize(num_threads_);
  ranges_.reset(new TaskRange[num_threads_]);
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
  ranges_.reset(new TaskRange[n]);
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

// Runs this thread's share of the run, then steals. Own claims take an eighth
// of what is left of the share (at least one task): a task can be as short as
// a microsecond (a depthwise channel plane), and a claim is an atomic; the
// share's line is written by its owner alone until someone steals, so the
// common case moves no cache line between cores. Thieves take half of what
// is left of another share, from its end, so the owner keeps its front.
// Why shares at all: with tasks handed out first come, first served, the
// same output pixels were written by one core in one run and the other in the
// next, and every store then fetched the line from the other core's cache
// (a 1x1 conv, 64->256 at 28x28 on 2 threads: 0.21 ms dynamic, 0.134 ms with
// fixed shares; 1 thread 0.24 ms).
// Completion is counted per thread, once it finds nothing left (done_), so
// Run waits for the tasks, not for every worker to check in. task_ and
// n_tasks_ are read after a successful claim, which synchronises with the
// Run that published the shares. Between runs every share is empty, so a late
// worker claims nothing; a worker still scanning when the next run opens may
// take part in it, and counts what it ran there.
void ThreadPool::Drain(int thread_index) {
  const int n = num_threads_;
  int64_t ran = 0;
  for (int k = 0; k < n; ++k) {
    std::atomic<uint64_t>& r = ranges_[(thread_index + k) % n].v;
    uint64_t v = r.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t lo = v & 0xFFFFFFFFu, hi = v >> 32;
      if (lo >= hi) break;
      uint64_t b, e, nv;
      if (k == 0) {
        const uint64_t c = (hi - lo) / 8 > 0 ? (hi - lo) / 8 : 1;
        b = lo;
        e = lo + c;
        nv = PackRange(e, hi);
      } else {
        const uint64_t c = (hi - lo) / 2 > 0 ? (hi - lo) / 2 : 1;
        b = hi - c;
        e = hi;
        nv = PackRange(lo, b);
      }
      if (!r.compare_exchange_weak(v, nv, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      const TaskFn& task = *task_;
      for (uint64_t j = b; j < e; ++j) task(static_cast<int64_t>(j), thread_index);
      ran += static_cast<int64_t>(e - b);
      v = r.load(std::memory_order_acquire);
    }
  }
  if (ran > 0 && done_.fetch_add(ran, std::memory_order_acq_rel) + ran == n_tasks_.load(std::memory_order_relaxed)) {
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
    if (!SpinForNewGeneration(generation_, seen, SpinBudgetNs())) {
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
  if (n_tasks > kMaxRunTasks) {
    for (int64_t off = 0; off < n_tasks; off += kMaxRunTasks) {
      const int64_t cnt = n_tasks - off < kMaxRunTasks ? n_tasks - off : kMaxRunTasks;
      Run(cnt, [&](int64_t i, int t) { task(off + i, t); });
    }
    return;
  }
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
    // Opens the run (after task_, n_tasks_, done_): thread t's share.
    for (int t = 0; t < num_threads_; ++t) {
      const uint64_t lo = static_cast<uint64_t>(t * n_tasks / num_threads_);
      const uint64_t hi = static_cast<uint64_t>((t + 1) * n_tasks / num_threads_);
      ranges_[t].v.store(PackRange(lo, hi), std::memory_order_release);
    }
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
}

}  // namespace resnext
