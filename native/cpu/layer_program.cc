// Runs a layer program (see resnext/layer_program.h): each step calls the
// same kernels the single-layer entry points use, in order, on the calling
// thread with the shared thread pool.
#include "resnext/layer_program.h"

#include <cassert>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "resnext/global_avg_pool.h"
#include "resnext/linear.h"

namespace resnext {

namespace {

// Packed weights of a conv step (null / 0 for other kinds).
const float* StepWeights(const LayerStep& s, int64_t* bytes) {
  *bytes = 0;
  if ((s.kind != LayerStep::Kind::kConv && s.kind != LayerStep::Kind::kBlockedConv) || s.conv == nullptr)
    return nullptr;
  *bytes = s.conv->packed_bytes();
  return s.conv->packed_data();
}

void Touch(const float* w, int64_t bytes, ThreadPool& pool, int mode) {
  pool.Run(mode == 5 ? 1 : pool.NumThreads(), [&](int64_t, int) {
    const char* p = reinterpret_cast<const char*>(w);
    volatile char sink = 0;
    char acc = 0;
    if (mode == 3) {
      for (int64_t i = 0; i < bytes; i += 64) __builtin_prefetch(p + i, 0, 2);
      return;
    }
    const int64_t step = mode == 4 ? 4096 : 64;
    for (int64_t i = 0; i < bytes; i += step) acc ^= p[i];
    sink = acc;
    (void)sink;
  });
}

void PrefetchSlices(const float* w, int64_t bytes, int64_t per_thread, ThreadPool& pool) {
  const int n = pool.NumThreads();
  pool.Run(n, [&](int64_t t, int) {
    const char* p = reinterpret_cast<const char*>(w);
    int64_t lo = t * bytes / n, hi = (t + 1) * bytes / n;
    if (hi - lo > per_thread) hi = lo + per_thread;
    for (int64_t i = lo; i < hi; i += 64) __builtin_prefetch(p + i, 0, 2);
  });
}

Status RunStep(const LayerStep& s, const float* x, ThreadPool& pool) {
  if (s.N <= 2 && std::getenv("RESNEXT_PF_MODE") && std::strcmp(std::getenv("RESNEXT_PF_MODE"), "touchin") == 0) {
    int64_t bytes = 0;
    const float* w = StepWeights(s, &bytes);
    if (w) Touch(w, bytes, pool, 2);
  }
  if (s.N <= 2 && std::getenv("RESNEXT_PF_MODE") && std::strcmp(std::getenv("RESNEXT_PF_MODE"), "pfin") == 0) {
    int64_t bytes = 0;
    const float* w = StepWeights(s, &bytes);
    if (w) PrefetchSlices(w, bytes, std::getenv("RESNEXT_PREFETCH_KB") ? std::atoll(std::getenv("RESNEXT_PREFETCH_KB")) * 1024 : 512 * 1024, pool);
  }
  const float* in = s.input ? s.input : x;
  assert(in != nullptr && s.output != nullptr);
  Status st;
  switch (s.kind) {
    case LayerStep::Kind::kConv:
      st = s.conv->Run(s.N, s.H, s.W, in, s.residual, s.output, pool);
      break;
    case LayerStep::Kind::kBlockedConv:
      st = s.blocked->run(ConvRunArgs{&s.params, in, s.packed, s.bias, s.residual, s.output}, pool);
      break;
    case LayerStep::Kind::kToBlocked:
      ToBlocked(in, s.output, s.N, s.C, s.hw, s.cb, pool);
      break;
    case LayerStep::Kind::kFromBlocked:
      FromBlocked(in, s.output, s.N, s.C, s.hw, s.cb, pool);
      break;
    case LayerStep::Kind::kMaxPool2d:
      st = MaxPool2d(s.pool, in, s.output, pool);
      break;
    case LayerStep::Kind::kGlobalAvgPool:
      st = s.cb == 0 ? GlobalAvgPool(s.planes, s.hw, in, s.output, pool)
                     : GlobalAvgPoolBlocked(s.N, s.C, s.hw, s.cb, in, s.output, pool);
      break;
    case LayerStep::Kind::kLinear:
      st = Linear(s.rows, s.in, s.out, in, s.weight, s.bias, s.output, pool);
      break;
  }
  return st;
}

// MEASURE (throwaway): RESNEXT_PF_MODE=touch reads every conv step's packed
// weights on every thread just before the step, outside its timing.
int PfMode() {
  const char* e = std::getenv("RESNEXT_PF_MODE");
  if (e == nullptr) return 1;
  if (std::strcmp(e, "off") == 0) return 0;
  if (std::strcmp(e, "touch") == 0) return 2;
  if (std::strcmp(e, "pfsync") == 0) return 3;
  if (std::strcmp(e, "tlb") == 0) return 4;
  if (std::strcmp(e, "touch0") == 0) return 5;
  if (std::strcmp(e, "pfin") == 0) return 6;
  if (std::strcmp(e, "nop") == 0) return 7;
  if (std::strcmp(e, "touchin") == 0) return 8;
  return 1;
}
int64_t PfBytes() {
  const char* e = std::getenv("RESNEXT_PREFETCH_KB");
  return e ? std::atoll(e) * 1024 : 512 * 1024;
}

}  // namespace

Status RunLayerProgram(const std::vector<LayerStep>& steps, const float* x, ThreadPool& pool, double* step_ns) {
  using Clock = std::chrono::steady_clock;
  const int mode = PfMode();
  int64_t nopb = 0;
  const int64_t pf_bytes = PfBytes();
  for (size_t i = 0; i < steps.size(); ++i) {
    Status st;
    if (mode == 1 && i + 1 < steps.size()) {
      int64_t bytes = 0;
      const float* w = StepWeights(steps[i + 1], &bytes);
      if (w != nullptr && steps[i + 1].N <= 2) pool.SetPrefetch(w, bytes, pf_bytes);
    }
    if (std::getenv("RESNEXT_DBG_TASKS")) {
      int64_t b = 0;
      StepWeights(steps[i], &b);
      fprintf(stderr, "step %zu kind %d N %lld weights %lld KB\n", i, (int)steps[i].kind, (long long)steps[i].N, (long long)(b >> 10));
    }
    if (mode == 7 && step_ns != nullptr && StepWeights(steps[i], &nopb) != nullptr) pool.Run(pool.NumThreads(), [](int64_t, int) {});
    if (mode >= 2 && mode <= 5 && step_ns != nullptr) {
      int64_t bytes = 0;
      const float* w = StepWeights(steps[i], &bytes);
      if (w != nullptr) {
        const auto a = std::chrono::steady_clock::now();
        Touch(w, bytes, pool, mode);
        const auto b2 = std::chrono::steady_clock::now();
        Touch(w, bytes, pool, mode);
        const auto c = std::chrono::steady_clock::now();
        if (std::getenv("RESNEXT_DBG_TOUCH")) fprintf(stderr, "touch step %zu %lld KB: %.1f us, again %.1f us\n", i, (long long)(bytes >> 10), std::chrono::duration<double, std::micro>(b2 - a).count(), std::chrono::duration<double, std::micro>(c - b2).count());
      }
    }
    if (step_ns == nullptr) {
      st = RunStep(steps[i], x, pool);
    } else {
      const Clock::time_point t0 = Clock::now();
      st = RunStep(steps[i], x, pool);
      step_ns[i] = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    }
    pool.ClearPrefetch();
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace resnext
