// A layer program: a fixed list of inference steps (prepared convolutions in
// NCHW or in the blocked layout NCHW[cb]c, conversions between the two, max
// pool, global average pool, linear) over buffers bound once, run as one
// unit. Lets a whole network run in a single worker-thread job instead of one
// round trip through the event loop per layer (about 40 us each here).
// Steps read and write plain float pointers; a step whose input is null reads
// the program's input x (the network input, which changes per run). The
// caller (native/napi/network_wrap.cc) validates every size and keeps every
// buffer alive; Run only asserts.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "resnext/conv_blocked.h"
#include "resnext/conv_plan.h"
#include "resnext/max_pool2d.h"
#include "resnext/status.h"
#include "resnext/thread_pool.h"

namespace resnext {

struct LayerStep {
  enum class Kind {
    kConv,
    kBlockedConv,
    kToBlocked,
    kFromBlocked,
    kMaxPool2d,
    kGlobalAvgPool,
    kLinear
  } kind = Kind::kConv;
  const float* input = nullptr;  // null: the program input x
  float* output = nullptr;
  // kConv
  const ConvPlan* conv = nullptr;
  const float* residual = nullptr;
  int64_t N = 0, H = 0, W = 0;
  // kBlockedConv: input, residual and output blocked with blocked->cb; params
  // has N, H, W bound; packed and bias belong to the network (bias may be null).
  const BlockedConv* blocked = nullptr;
  ConvParams params;
  const float* packed = nullptr;
  // kBlockedConv writing NCHW (blocked->run_nchw_out), for a reorder to NCHW
  // that then has skip set (native/napi/network_wrap.cc FuseReorders).
  bool out_nchw = false;
  // Not run (its work done by an earlier step); its time reads 0.
  bool skip = false;
  // kToBlocked / kFromBlocked: N images of C channels of hw pixels, blocks of cb; kGlobalAvgPool
  // reads the blocked layout when cb > 0 (N, C, hw), else NCHW (planes, hw).
  int64_t C = 0;
  int cb = 0;
  // kMaxPool2d (pool.cb_in / cb_out give the layouts)
  MaxPool2dParams pool;
  // kGlobalAvgPool: planes x hw (also hw of kToBlocked / kFromBlocked); kLinear: rows x in -> rows x out
  int64_t planes = 0, hw = 0;
  int64_t rows = 0, in = 0, out = 0;
  const float* weight = nullptr;
  const float* bias = nullptr;
};

// Runs the steps in order; stops at the first failing step. With step_ns
// (steps.size() entries) each step's wall time in steady_clock nanoseconds is
// written there (steps not run keep their value; skipped steps get 0); null
// costs nothing.
Status RunLayerProgram(const std::vector<LayerStep>& steps, const float* x, ThreadPool& pool,
                       double* step_ns = nullptr);

}  // namespace resnext
