// ConvPlan JS class (see conv_plan_wrap.h). runAsync runs the kernel on a libuv
// thread through the shared LayerWorker (layer_worker.h), which pins the plan,
// input, output and residual typed arrays until it settles the promise.
#include "conv_plan_wrap.h"

#include <string>

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
                      InstanceMethod<&ConvPlanWrap::Info>("info")});
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

  s = resnext::ConvPlan::Create(p, weight.data, bias.data, popts, &plan_);
  if (!s.ok()) ThrowStatus(env, s);
}

Napi::Value ConvPlanWrap::Run(const Napi::CallbackInfo& info) {
  RunArgs a = ParseRunArgs(info, *plan_);
  resnext::Status s =
      plan_->Run(a.N, a.H, a.W, a.input.data, a.residual.data, a.output.data, resnext::ThreadPool::Global());
  if (!s.ok()) ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value ConvPlanWrap::RunAsync(const Napi::CallbackInfo& info) {
  RunArgs a = ParseRunArgs(info, *plan_);
  const resnext::ConvPlan* plan = plan_.get();
  // The plan object and every typed array the kernel touches stay pinned until the worker is done.
  std::vector<Napi::Value> pinned{info.This(), a.input.value, a.output.value};
  if (a.residual.data != nullptr) pinned.push_back(a.residual.value);
  return LayerWorker::Start(
      info.Env(), "resnext:conv2d",
      // Only plain pointers and sizes cross to the worker thread, never JS handles.
      [plan, N = a.N, H = a.H, W = a.W, in = a.input.data, res = a.residual.data, out = a.output.data]() {
        return plan->Run(N, H, W, in, res, out, resnext::ThreadPool::Global());
      },
      pinned);
}

Napi::Value ConvPlanWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("impl", Napi::String::New(env, plan_->impl().name));
  o.Set("isa", Napi::String::New(env, resnext::IsaName(plan_->impl().isa)));
  o.Set("fallbacks", ToArray(env, plan_->fallbacks()));
  if (plan_->impl().per_run != nullptr) o.Set("perRun", Napi::String::New(env, plan_->impl().per_run));
  o.Set("packedBytes", Napi::Number::New(env, static_cast<double>(plan_->packed_bytes())));
  return o;
}

}  // namespace resnext_napi
