// ConvPlan JS class (see conv_plan_wrap.h). runAsync runs the kernel on a libuv
// thread through the shared LayerWorker (layer_worker.h): input and residual
// are copied when the call starts and the output is staged and copied back
// when it settles, so JS memory is never touched off the JS thread; the
// worker holds the plan (shared_ptr) so dispose() during the call is safe.
#include "conv_plan_wrap.h"

#include <string>
#include <vector>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "layer_worker.h"
#include "resnext/thread_pool.h"
#include "resnext/validate.h"

namespace resnext_napi {
namespace {

constexpr int64_t kMaxDim = resnext::kMaxElements;

// Arguments of run/runAsync after checking.
struct RunArgs {
  int64_t N = 0, H = 0, W = 0;
  F32View input, output, residual;
};

RunArgs ParseRunArgs(const Napi::CallbackInfo& info, const resnext::ConvPlan& plan) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) ThrowType(env, "run: expected (input, inputShape, output, residual?)");
  RunArgs r;
  r.input = GetFloat32Array(info[0], "input");
  auto shape = GetIntArray<4>(info[1], "input.shape", 0, kMaxDim);
  r.output = GetFloat32Array(info[2], "output");
  r.residual = GetOptionalFloat32Array(info.Length() > 3 ? info[3] : env.Undefined(), "residual");

  const resnext::ConvParams& pp = plan.params();
  if (shape[1] != pp.C)
    ThrowRange(env, "input.shape[1] (channels): expected " + std::to_string(pp.C) +
                        " (weight.shape[1] * groups) but received " + std::to_string(shape[1]));
  resnext::ConvParams p;
  resnext::Status s = plan.Bind(shape[0], shape[2], shape[3], &p);
  if (!s.ok()) ThrowStatus(env, s);
  if (r.input.length != p.InputSize())
    ThrowRange(env, "input: expected " + std::to_string(p.InputSize()) + " elements for its shape but received " +
                        std::to_string(r.input.length));
  if (r.output.length != p.OutputSize())
    ThrowRange(env, "output: expected " + std::to_string(p.OutputSize()) + " elements but received " +
                        std::to_string(r.output.length));
  if (r.residual.data != nullptr && r.residual.length != p.OutputSize())
    ThrowRange(env, "residual: expected " + std::to_string(p.OutputSize()) + " elements but received " +
                        std::to_string(r.residual.length));
  if (Overlaps(r.input, r.output)) ThrowRange(env, "output: must not share memory with input");
  Recheck(r.input, "input");
  Recheck(r.output, "output");
  Recheck(r.residual, "residual");
  r.N = p.N;
  r.H = p.H;
  r.W = p.W;
  return r;
}

Napi::Array ToArray(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
  return a;
}

}  // namespace

Napi::Function ConvPlanWrap::Define(Napi::Env env) {
  return DefineClass(env, "ConvPlan",
                     {InstanceMethod<&ConvPlanWrap::Run>("run"), InstanceMethod<&ConvPlanWrap::RunAsync>("runAsync"),
                      InstanceMethod<&ConvPlanWrap::Info>("info"), InstanceMethod<&ConvPlanWrap::Dispose>("dispose")});
}

ConvPlanWrap::ConvPlanWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConvPlanWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4) ThrowType(env, "ConvPlan: expected (weight, weightShape, bias, options)");
  F32View weight = GetFloat32Array(info[0], "weight");
  auto wshape = GetIntArray<4>(info[1], "weight.shape", 1, kMaxDim);
  F32View bias = GetOptionalFloat32Array(info[2], "bias");
  if (!info[3].IsObject()) ThrowType(env, "options: expected an object");
  Napi::Object o = info[3].As<Napi::Object>();

  resnext::ConvParams p = GetConvGeometry(o, wshape);
  Napi::Value act = o.Get("activation");
  if (!act.IsUndefined()) {
    if (!act.IsString()) ThrowType(env, "activation: expected 'none' or 'relu'");
    std::string a = act.As<Napi::String>().Utf8Value();
    if (a == "relu") {
      p.activation = resnext::Activation::kRelu;
    } else if (a != "none") {
      ThrowRange(env, "activation: expected 'none' or 'relu' but received '" + a + "'");
    }
  }
  resnext::ConvPlanOptions popts;
  Napi::Value isa = o.Get("isa");
  if (!isa.IsUndefined() && !isa.IsNull()) {
    if (!isa.IsString()) ThrowType(env, "isa: expected 'scalar', 'avx2' or 'avx512'");
    std::string name = isa.As<Napi::String>().Utf8Value();
    if (!resnext::ParseIsa(name, &popts.isa))
      ThrowRange(env, "isa: expected 'scalar', 'avx2' or 'avx512' but received '" + name + "'");
    popts.has_isa = true;
  }
  Napi::Value impl = o.Get("impl");
  if (!impl.IsUndefined() && !impl.IsNull()) {
    if (!impl.IsString()) ThrowType(env, "impl: expected a string");
    popts.impl = impl.As<Napi::String>().Utf8Value();
  }
  popts.direct_only = GetDirectOnly(o.Get("algorithm"), "algorithm");

  p.N = p.H = p.W = 1;
  resnext::Status s = resnext::ValidateConvPlanParams(p);
  if (!s.ok()) ThrowStatus(env, s);
  if (weight.length != p.WeightSize())
    ThrowRange(env, "weight: expected " + std::to_string(p.WeightSize()) + " elements for its shape but received " +
                        std::to_string(weight.length));
  if (bias.data != nullptr && bias.length != p.K)
    ThrowRange(env, "bias: expected " + std::to_string(p.K) + " elements (output channels) but received " +
                        std::to_string(bias.length));

  Recheck(weight, "weight");
  Recheck(bias, "bias");
  std::unique_ptr<resnext::ConvPlan> plan;
  s = resnext::ConvPlan::Create(p, weight.data, bias.data, popts, &plan);
  if (!s.ok()) ThrowStatus(env, s);
  plan_ = std::move(plan);
  reported_bytes_ = plan_->packed_bytes();
  Napi::MemoryManagement::AdjustExternalMemory(env, reported_bytes_);
}

ConvPlanWrap::~ConvPlanWrap() { Release(Env()); }

void ConvPlanWrap::Release(Napi::Env env) {
  plan_.reset();
  if (reported_bytes_ != 0) {
    napi_adjust_external_memory(env, -reported_bytes_, nullptr);
    reported_bytes_ = 0;
  }
}

const resnext::ConvPlan& ConvPlanWrap::Live(Napi::Env env) const {
  if (!plan_) ThrowCode(env, "ERR_RESNEXT_DISPOSED", "ConvPlan: expected a live plan but received a disposed one");
  return *plan_;
}

Napi::Value ConvPlanWrap::Run(const Napi::CallbackInfo& info) {
  const resnext::ConvPlan& plan = Live(info.Env());
  RunArgs a = ParseRunArgs(info, plan);
  // The output may be the residual (out === residual): in place when the kernel reads each residual element before
  // writing there (ConvImpl::residual_in_place), else from a copy (e.g. the gemm with several kd blocks keeps
  // partial sums in the output, and the direct kernel writes it before the epilogue).
  const float* residual = a.residual.data;
  std::vector<float> residual_copy;
  if (Overlaps(a.residual, a.output) && !(SameView(a.residual, a.output) && plan.residual_in_place())) {
    residual_copy.assign(a.residual.data, a.residual.data + a.residual.length);
    residual = residual_copy.data();
  }
  resnext::Status s = plan.Run(a.N, a.H, a.W, a.input.data, residual, a.output.data, PoolOf(info.Env()));
  if (!s.ok()) ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value ConvPlanWrap::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunArgs a = ParseRunArgs(info, Live(env));
  LayerWorker* w = LayerWorker::Create(env, "resnext:conv2d");
  w->Pin(info.This());
  // Only native copies, the plan and the pool cross to the worker thread, never JS memory or handles.
  return w->Start([plan = plan_, pool = &PoolOf(env), N = a.N, H = a.H, W = a.W, in = w->Input(a.input),
                   res = w->Input(a.residual),
                   out = w->Output(a.output)]() { return plan->Run(N, H, W, in, res, out, *pool); });
}

Napi::Value ConvPlanWrap::Dispose(const Napi::CallbackInfo& info) {
  Release(info.Env());
  return info.Env().Undefined();
}

Napi::Value ConvPlanWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const resnext::ConvPlan& plan = Live(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("impl", Napi::String::New(env, plan.impl().name));
  o.Set("isa", Napi::String::New(env, resnext::IsaName(plan.impl().isa)));
  o.Set("fallbacks", ToArray(env, plan.fallbacks()));
  if (plan.impl().per_run != nullptr) o.Set("perRun", Napi::String::New(env, plan.impl().per_run));
  o.Set("packedBytes", Napi::Number::New(env, static_cast<double>(plan.packed_bytes())));
  return o;
}

}  // namespace resnext_napi
