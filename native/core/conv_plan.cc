// ConvPlan (see conv_plan.h): validation, implementation choice by the
// registry's priorities, and one-time weight packing.
#include "resnext/conv_plan.h"

#include <new>

#include "resnext/validate.h"

namespace resnext {

Status ConvPlan::Create(const ConvParams& p_in, const float* weight, const float* bias, const ConvPlanOptions& options,
                        std::unique_ptr<ConvPlan>* out) {
  ConvParams p = p_in;
  p.N = p.H = p.W = 1;
  Status s = ValidateConvPlanParams(p);
  if (!s.ok()) return s;
  if (weight == nullptr) return Status::InvalidArgument("weight: expected data but received null");

  Isa cap = options.has_isa ? options.isa : GetIsaCap();
  if (cap > GetCpuFeatures().best) cap = GetCpuFeatures().best;

  auto plan = std::unique_ptr<ConvPlan>(new (std::nothrow) ConvPlan());
  if (!plan) return Status::OutOfMemory("plan: out of memory");
  plan->params_ = p;

  int count = 0;
  const ConvImpl* const* impls = ConvImpls(&count);
  for (int i = 0; i < count; ++i) {
    const ConvImpl* c = impls[i];
    if (!options.impl.empty() && options.impl != c->name) continue;
    if (options.direct_only && c->transformed) {
      plan->fallbacks_.push_back(std::string(c->name) + ": excluded by algorithm 'direct'");
      continue;
    }
    if (c->isa > cap) {
      plan->fallbacks_.push_back(std::string(c->name) + ": needs " + IsaName(c->isa) + ", ISA limited to " +
                                 IsaName(cap));
      continue;
    }
    if (const char* why = c->unsupported(p)) {
      plan->fallbacks_.push_back(std::string(c->name) + ": " + why);
      continue;
    }
    if (options.impl.empty() && c->slower_here != nullptr) {
      if (const char* why = c->slower_here(p)) {
        plan->fallbacks_.push_back(std::string(c->name) + ": " + why);
        continue;
      }
    }
    plan->impl_ = c;
    break;
  }
  if (plan->impl_ == nullptr) {
    if (!options.impl.empty()) {
      std::string msg = "impl: '" + options.impl + "' cannot run this convolution";
      for (auto& f : plan->fallbacks_) msg += "; " + f;
      if (plan->fallbacks_.empty())
        msg = "impl: expected a known implementation name but received '" + options.impl + "'";
      return Status::InvalidArgument(msg);
    }
    return Status::Internal("no CPU implementation accepts this convolution (the generic one should)");
  }
  try {
    plan->packed_.assign(static_cast<size_t>(plan->impl_->packed_size(p)), 0.0f);
    if (bias != nullptr) plan->bias_.assign(bias, bias + p.K);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("weight: out of memory while packing");
  }
  plan->impl_->pack(p, weight, plan->packed_.data());
  *out = std::move(plan);
  return Status::Ok();
}

Status ConvPlan::Bind(int64_t N, int64_t H, int64_t W, ConvParams* out) const {
  ConvParams p = params_;
  p.N = N;
  p.H = H;
  p.W = W;
  Status s = ValidateConvParams(p);
  if (!s.ok()) return s;
  *out = p;
  return Status::Ok();
}

Status ConvPlan::Run(int64_t N, int64_t H, int64_t W, const float* input, const float* residual, float* output,
                     ThreadPool& pool) const {
  ConvParams p;
  Status s = Bind(N, H, W, &p);
  if (!s.ok()) return s;
  ConvRunArgs args{&p, input, packed_.data(), bias_.empty() ? nullptr : bias_.data(), residual, output};
  return impl_->run(args, pool);
}

}  // namespace resnext
