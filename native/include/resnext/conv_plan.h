// ConvPlan: create once, run many. Creation validates the hyperparameters,
// picks the implementation for the current CPU (and ISA cap) and packs the
// weights and bias; Run only validates the input shape and binds pointers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "resnext/conv_kernel.h"
#include "resnext/conv_params.h"
#include "resnext/packed_buffer.h"
#include "resnext/status.h"

namespace resnext {

struct ConvPlanOptions {
  // Highest ISA to use (clamped to the CPU's); defaults to GetIsaCap().
  bool has_isa = false;
  Isa isa = Isa::kScalar;
  // Force one implementation by name (tests use this to cover every path);
  // empty picks by priority.
  std::string impl;
  // Only direct convolution (every product x*w formed as in the definition):
  // skips the `transformed` implementations (Winograd), e.g. to compare
  // architectures at equal multiply counts.
  bool direct_only = false;
};

class ConvPlan {
 public:
  // p: everything but N, H, W (ignored). weight [K][C/G][R][S]; bias [K] or null.
  static Status Create(const ConvParams& p, const float* weight, const float* bias, const ConvPlanOptions& options,
                       std::unique_ptr<ConvPlan>* out);

  // Runs on input [N][C][H][W] into output [N][K][P][Q]; residual like output or null.
  // The sizes must already be checked by the caller against Output shape.
  Status Run(int64_t N, int64_t H, int64_t W, const float* input, const float* residual, float* output,
             ThreadPool& pool) const;

  // Parameters with N, H, W filled in, validated.
  Status Bind(int64_t N, int64_t H, int64_t W, ConvParams* out) const;

  const ConvParams& params() const { return params_; }
  const ConvImpl& impl() const { return *impl_; }
  // Whether Run may be given output == residual (ConvImpl::residual_in_place).
  bool residual_in_place() const { return impl_->residual_in_place != nullptr && impl_->residual_in_place(params_); }
  // Why each higher-priority implementation was not chosen, "name: reason" lines.
  const std::vector<std::string>& fallbacks() const { return fallbacks_; }
  int64_t packed_bytes() const { return static_cast<int64_t>(packed_.size() * sizeof(float)); }
  // The packed weights and bias (null when none), for a caller that runs the
  // implementation's kernel itself (a network program's blocked steps).
  const float* packed_data() const { return packed_.data(); }
  const float* bias_data() const { return bias_.empty() ? nullptr : bias_.data(); }

 private:
  ConvParams params_;
  const ConvImpl* impl_ = nullptr;
  std::vector<float, PackedAllocator<float>> packed_;  // 64-byte aligned: see packed_buffer.h
  std::vector<float> bias_;                            // empty when none
  std::vector<std::string> fallbacks_;
};

}  // namespace resnext
