// CudaConvPlan JS class: a DeviceConvPlan (our kernels, impl 'cuda', or cuDNN,
// impl 'cudnn') made once from host float32 OIHW weights. run() enqueues on the
// addon's stream and returns at once (results stay on the GPU; a download
// waits for them); runAsync() also resolves a promise when the GPU is done,
// waiting off the event loop. Buffers in flight are pinned by the promise.
#include <memory>

#include "cuda/device_conv_plan.h"
#include "cuda/runtime.h"
#include "glue.h"
#include "napi/convert.h"
#include "napi/errors.h"
#include "resnext/validate.h"
#if RESNEXT_WITH_CUDNN
#include "cudnn/cudnn_conv.h"
#endif

namespace resnext_cuda_napi {
namespace {

using resnext::Status;
using resnext_napi::ThrowRange;
using resnext_napi::ThrowStatus;
using resnext_napi::ThrowType;

constexpr int64_t kMaxDim = resnext::kMaxElements;

class ConvPlanWrap : public Napi::ObjectWrap<ConvPlanWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "CudaConvPlan",
                                   {
                                       InstanceMethod<&ConvPlanWrap::Run>("run"),
                                       InstanceMethod<&ConvPlanWrap::RunAsync>("runAsync"),
                                       InstanceMethod<&ConvPlanWrap::Info>("info"),
                                       InstanceMethod<&ConvPlanWrap::Dispose>("dispose"),
                                   });
    exports.Set("CudaConvPlan", f);
  }

  // new CudaConvPlan(weight: Float32Array, weightShape, bias: Float32Array | null,
  //                  { groups, stride, dilation, padding, activation, dtype, impl })
  explicit ConvPlanWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConvPlanWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[3].IsObject())
      ThrowType(env, "CudaConvPlan: expected (weight, weightShape, bias, options)");
    resnext_napi::F32View w = resnext_napi::GetFloat32Array(info[0], "weight");
    auto ws = resnext_napi::GetIntArray<4>(info[1], "weight.shape", 1, kMaxDim);
    resnext_napi::F32View bias = resnext_napi::GetOptionalFloat32Array(info[2], "bias");
    Napi::Object o = info[3].As<Napi::Object>();
    resnext::ConvParams p = resnext_napi::GetConvGeometry(o, ws);
    Napi::Value act = o.Get("activation");
    const std::string a = act.IsString() ? act.As<Napi::String>().Utf8Value() : "none";
    if (a != "none" && a != "relu") ThrowRange(env, "activation: expected 'none' or 'relu' but received \"" + a + "\"");
    p.activation = a == "relu" ? resnext::Activation::kRelu : resnext::Activation::kNone;
    const auto dtype = static_cast<resnext::cuda::DType>(resnext_napi::GetInt(o.Get("dtype"), "dtype", 0, 2));
    Napi::Value impl_v = o.Get("impl");
    const std::string impl = impl_v.IsString() ? impl_v.As<Napi::String>().Utf8Value() : "cuda";
    Napi::Value kernel_v = o.Get("kernel");
    if (!kernel_v.IsUndefined() && !kernel_v.IsNull() && !kernel_v.IsString())
      ThrowType(env, "kernel: expected a kernel name");
    const std::string kernel = kernel_v.IsString() ? kernel_v.As<Napi::String>().Utf8Value() : "";

    Status s = resnext::ValidateConvPlanParams(p);
    if (!s.ok()) ThrowStatus(env, s);
    if (w.length != p.WeightSize())
      ThrowRange(env, "weight: expected " + std::to_string(p.WeightSize()) + " elements for its shape but received " +
                          std::to_string(w.length));
    if (bias.data && bias.length != p.K)
      ThrowRange(env,
                 "bias: expected " + std::to_string(p.K) + " elements but received " + std::to_string(bias.length));
    if (impl == "cuda") {
      s = resnext::cuda::CreateGroupedConvPlan(p, dtype, w.data, bias.data, kernel, &plan_);
    } else if (impl == "cudnn") {
      if (!kernel.empty())
        ThrowRange(env, "kernel: the cudnn backend chooses its own algorithm; expected no kernel but received \"" +
                            kernel + "\"");
#if RESNEXT_WITH_CUDNN
      s = resnext::cuda::CreateCudnnConvPlan(p, dtype, w.data, bias.data, &plan_);
#else
      s = Status::Unsupported("cuDNN not found when the addon was built");
#endif
    } else {
      ThrowRange(env, "impl: expected 'cuda' or 'cudnn' but received \"" + impl + "\"");
    }
    if (!s.ok()) ThrowStatus(env, s);
  }

 private:
  resnext::cuda::DeviceConvPlan& plan(Napi::Env env) {
    if (!plan_) ThrowType(env, "CudaConvPlan: expected a live plan but received a disposed one");
    return *plan_;
  }

  // (x: DeviceBuffer, xShape [N, C, H, W], out: DeviceBuffer, residual: DeviceBuffer | null)
  void Enqueue(const Napi::CallbackInfo& info, std::vector<Napi::Value>* pins) {
    Napi::Env env = info.Env();
    resnext::cuda::DeviceConvPlan& pl = plan(env);
    if (info.Length() < 3) ThrowType(env, "run: expected (x, xShape, out, residual?)");
    BufferView x = GetBuffer(info[0], "x");
    auto shape = resnext_napi::GetIntArray<4>(info[1], "x.shape", 0, kMaxDim);
    BufferView out = GetBuffer(info[2], "out");
    BufferView res = GetOptionalBuffer(info.Length() > 3 ? info[3] : env.Undefined(), "residual");
    const resnext::ConvParams& pp = pl.params();
    if (shape[1] != pp.C)
      ThrowRange(env, "x.shape[1] (channels): expected " + std::to_string(pp.C) +
                          " (weight.shape[1] * groups) but received " + std::to_string(shape[1]));
    resnext::ConvParams full = pp;
    full.N = shape[0];
    full.H = shape[2];
    full.W = shape[3];
    Status s = resnext::ValidateConvParams(full);
    if (!s.ok()) ThrowStatus(env, s);
    auto check = [&](const BufferView& b, const char* name, int64_t n) {
      if (b.elements != n)
        ThrowRange(env, std::string(name) + ": expected " + std::to_string(n) + " elements but received " +
                            std::to_string(b.elements));
      if (b.dtype != pl.dtype())
        ThrowRange(env, std::string(name) + ": expected dtype " + resnext::cuda::DTypeName(pl.dtype()) +
                            " (the plan's) but received " + resnext::cuda::DTypeName(b.dtype));
    };
    check(x, "x", full.InputSize());
    check(out, "out", full.OutputSize());
    if (res.ptr) check(res, "residual", full.OutputSize());
    if (out.ptr == x.ptr) ThrowRange(env, "out: must not be the same buffer as x");
    resnext::cuda::DeviceConvRun r;
    r.N = full.N;
    r.H = full.H;
    r.W = full.W;
    r.x = x.ptr;
    r.residual = res.ptr;
    r.y = out.ptr;
    s = pl.Run(r);
    if (!s.ok()) ThrowStatus(env, s);
    if (pins) {
      pins->push_back(Value());
      pins->push_back(x.object);
      pins->push_back(out.object);
      if (res.ptr) pins->push_back(res.object);
    }
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Enqueue(info, nullptr);
    return info.Env().Undefined();
  }

  Napi::Value RunAsync(const Napi::CallbackInfo& info) {
    std::vector<Napi::Value> pins;
    Enqueue(info, &pins);
    return WhenStreamDone(info.Env(), std::move(pins), nullptr, nullptr);
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    resnext::cuda::DeviceConvPlan& pl = plan(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("impl", pl.Name());
    o.Set("detail", pl.Detail());
    o.Set("dtype", resnext::cuda::DTypeName(pl.dtype()));
    o.Set("packedBytes", static_cast<double>(pl.PackedBytes()));
    return o;
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    plan_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<resnext::cuda::DeviceConvPlan> plan_;
};

}  // namespace

void InitConvPlan(Napi::Env env, Napi::Object exports) { ConvPlanWrap::Init(env, exports); }

}  // namespace resnext_cuda_napi
