// Runs a layer program (see resnext/layer_program.h): each step calls the
// same kernels the single-layer entry points use, in order, on the calling
// thread with the shared thread pool.
#include "resnext/layer_program.h"

#include <cassert>
#include <chrono>

#include "resnext/global_avg_pool.h"
#include "resnext/linear.h"

namespace resnext {

namespace {

Status RunStep(const LayerStep& s, const float* x, ThreadPool& pool) {
  const float* in = s.input ? s.input : x;
  assert(in != nullptr && s.output != nullptr);
  Status st;
  switch (s.kind) {
    case LayerStep::Kind::kConv:
      st = s.conv->Run(s.N, s.H, s.W, in, s.residual, s.output, pool);
      break;
    case LayerStep::Kind::kBlockedConv: {
      const ConvRunArgs args{&s.params, in, s.packed, s.bias, s.residual, s.output};
      st = s.out_nchw ? s.blocked->run_nchw_out(args, pool) : s.blocked->run(args, pool);
      break;
    }
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

}  // namespace

Status RunLayerProgram(const std::vector<LayerStep>& steps, const float* x, ThreadPool& pool, double* step_ns) {
  using Clock = std::chrono::steady_clock;
  for (size_t i = 0; i < steps.size(); ++i) {
    Status st;
    if (steps[i].skip) {
      if (step_ns != nullptr) step_ns[i] = 0;
      continue;
    }
    if (step_ns == nullptr) {
      st = RunStep(steps[i], x, pool);
    } else {
      const Clock::time_point t0 = Clock::now();
      st = RunStep(steps[i], x, pool);
      step_ns[i] = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    }
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace resnext
