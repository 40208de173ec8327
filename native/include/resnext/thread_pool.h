// A fork-join thread pool. The N-API glue owns one per JS environment (the
// main thread and each worker_thread), so a thread count set in one
// environment does not change another's, and an environment that goes away
// joins its threads before the addon's code can be unloaded. One parallel job
// runs at a time per pool (Run holds a mutex), so concurrent callers of one
// environment (its JS thread and the libuv threads running its async calls)
// queue instead of oversubscribing the cores. The calling thread takes part
// as thread 0. The destructor joins the workers; no Run may be in progress.
//
// Each participating thread owns a scratch buffer that grows and is reused, so
// kernels need no allocation (and no page faults) on the hot path.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace resnext {

class ThreadPool {
 public:
  // task(i, thread_index) is called once for every i in [0, n_tasks). Thread
  // t owns the t-th contiguous share of the indices and runs it in order (in
  // claims of an eighth of what is left); a thread done with its own share
  // steals half of what is left of another's, from its end. The same task
  // index lands on the same thread run after run and layer after layer (so
  // data written by one task stays in that core's cache for the next), and a
  // descheduled thread's share is taken over by the others.
  // thread_index < NumThreads().
  using TaskFn = std::function<void(int64_t task, int thread_index)>;

  // RESNEXT_NUM_THREADS when set to a positive integer, else HardwareThreads().
  static int DefaultThreads();

  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int NumThreads() const { return num_threads_; }
  // Resizes the pool (joins and restarts workers). n < 1 means "all cores".
  void SetNumThreads(int n);

  void Run(int64_t n_tasks, const TaskFn& task);

  // 64-byte aligned scratch of at least `floats` floats for thread_index; valid
  // only inside a task of the current Run. Returns nullptr if allocation failed.
  float* Scratch(int thread_index, int64_t floats);

  static int HardwareThreads();

 private:
  struct ScratchBuf {
    float* data = nullptr;
    int64_t capacity = 0;
  };
  void StartWorkers();
  void StopWorkers();
  void WorkerLoop(int index, uint64_t seen);
  void Drain(int thread_index);

  int num_threads_ = 1;
  std::mutex run_mutex_;  // serialises Run and SetNumThreads
  std::vector<std::thread> workers_;
  std::vector<ScratchBuf> scratch_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  const TaskFn* task_ = nullptr;
  std::atomic<int64_t> n_tasks_{0};  // read by workers before a claim, only to size it
  // Thread t's share of the current run, [lo, hi) packed as lo | hi << 32:
  // it claims from the front, the others steal from the back. One cache line
  // each, and done_ (every thread's last act in a run) on its own.
  struct alignas(64) TaskRange {
    std::atomic<uint64_t> v{0};
  };
  std::unique_ptr<TaskRange[]> ranges_;
  alignas(64) std::atomic<int64_t> done_{0};  // tasks of the current run completed
  std::atomic<int> active_{0};
  std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<bool> stop_{false};
};

}  // namespace resnext
