// The CPU convolution kernel interface and registry. Kernels never see Node:
// they take plain pointers and ConvParams and return a Status.
//
// Dispatch is data: every implementation is a ConvImpl row in a table
// (native/cpu/registry.cc) with a priority and a minimum ISA. A plan takes the
// highest-priority row whose ISA is within the current cap and whose
// `unsupported` returns nullptr, and records why each higher row was skipped.
#pragma once

#include <cstdint>

#include "resnext/conv_params.h"
#include "resnext/cpu_features.h"
#include "resnext/status.h"
#include "resnext/thread_pool.h"

namespace resnext {

// Pointers bound for one run. Layouts as in conv_params.h; `packed_weights` is
// whatever the implementation's pack() wrote; bias may be null; residual may be
// null (else [N][K][P][Q], added before the activation).
struct ConvRunArgs {
  const ConvParams* p;
  const float* input;
  const float* packed_weights;
  const float* bias;
  const float* residual;
  float* output;
};

struct ConvImpl {
  const char* name;  // e.g. "direct_avx512"
  int priority;      // higher is preferred
  Isa isa;           // minimum ISA
  // nullptr when this implementation can run every input of p (N, H, W are
  // unknown at plan creation; p holds C, K, R, S, G, stride, dilation, padding);
  // else a short reason, e.g. "needs channels per group in {4, 8, 16}".
  const char* (*unsupported)(const ConvParams& p);
  // Floats needed by pack().
  int64_t (*packed_size)(const ConvParams& p);
  // Packs weight [K][C/G][R][S] into the implementation's layout.
  void (*pack)(const ConvParams& p, const float* weight, float* packed);
  // Runs on the pool. Must not allocate on the heap except through
  // pool.Scratch(); returns a non-ok Status only when scratch allocation fails.
  Status (*run)(const ConvRunArgs& args, ThreadPool& pool);
  // True for fast algorithms that compute the convolution by another
  // arithmetic (Winograd: fewer multiplies, transformed operands, different
  // rounding); a plan with ConvPlanOptions::direct_only skips them.
  bool transformed = false;
  // Set when a run may compute differently from what the name says, chosen
  // from N, H and W (which a plan does not know): plan.info() shows it.
  const char* per_run = nullptr;
  // Non-null when run() may be given output == residual (the same start and
  // size, never a partial overlap) for this p (N, H, W unknown): every
  // residual element is read before the output element at its position is
  // written, and no output element is written before that. A network lets
  // such a conv write over its residual's buffer (lib/models/plan.ts).
  bool (*residual_in_place)(const ConvParams& p) = nullptr;
  // Non-null when, for this p, a network should time this plan against
  // another registry row (by name) instead of the direct plan (ConvPlanOptions
  // direct_only), e.g. a variant that trades arithmetic for weight traffic,
  // which only shows inside a whole forward; nullptr keeps the direct plan.
  const char* (*alternate)(const ConvParams& p) = nullptr;
  // Non-null when, for p, another registry row is known to be faster on this
  // CPU (e.g. a 256-bit kernel where 512-bit FMAs run at full width): the
  // automatic choice passes over this one with the reason in the plan's
  // fallbacks, while a plan that names it (ConvPlanOptions::impl) runs it.
  const char* (*slower_here)(const ConvParams& p) = nullptr;
};

// The registry, highest priority first.
const ConvImpl* const* ConvImpls(int* count);

}  // namespace resnext
