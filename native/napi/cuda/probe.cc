// probe(), memory(), resetPeakMemory(), synchronize(), synchronizeAsync().
// probe() is what the TS loader asks before anything else: it never throws and
// never needs a GPU; every field says what was found and `reason` says why the
// GPU (or cuDNN) cannot be used.
#include "cuda/runtime.h"
#include "glue.h"
#include "napi/errors.h"
#if RESNEXT_WITH_CUDNN
#include "cudnn/cudnn_conv.h"
#endif

namespace resnext_cuda_napi {
namespace {

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const resnext::cuda::ProbeResult& p = resnext::cuda::Probe();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", p.ok);
  o.Set("driverFound", p.driverFound);
  o.Set("driverVersion", p.driverVersion);
  o.Set("runtimeVersion", p.runtimeVersion);
  o.Set("deviceCount", p.deviceCount);
  if (!p.ok) o.Set("reason", p.reason);
  Napi::Array devices = Napi::Array::New(env, p.devices.size());
  for (size_t i = 0; i < p.devices.size(); i++) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", p.devices[i].name);
    d.Set("computeCapability", std::to_string(p.devices[i].major) + "." + std::to_string(p.devices[i].minor));
    d.Set("multiprocessors", p.devices[i].multiprocessors);
    d.Set("totalMemory", static_cast<double>(p.devices[i].totalMemory));
    devices.Set(static_cast<uint32_t>(i), d);
  }
  o.Set("devices", devices);

  Napi::Object c = Napi::Object::New(env);
#if RESNEXT_WITH_CUDNN
  c.Set("compiled", true);
  // Opening cuDNN costs a few hundred ms and is pointless without a GPU.
  if (p.ok) {
    const resnext::cuda::CudnnProbeResult& cp = resnext::cuda::CudnnProbe();
    c.Set("loaded", cp.loaded);
    c.Set("version", cp.version);
    c.Set("headerVersion", cp.headerVersion);
    c.Set("library", cp.library);
    if (!cp.loaded) c.Set("reason", cp.reason);
  } else {
    c.Set("loaded", false);
    c.Set("reason", p.reason);
  }
#else
  c.Set("compiled", false);
  c.Set("loaded", false);
  c.Set("reason",
        "cuDNN not found when the addon was built (set CUDNN_ROOT or install nvidia-cudnn in python3's environment, "
        "then rebuild)");
#endif
  o.Set("cudnn", c);
  return o;
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  resnext::cuda::MemoryStats m = resnext::cuda::Memory();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("bytesInUse", static_cast<double>(m.bytesInUse));
  o.Set("peakBytes", static_cast<double>(m.peakBytes));
  o.Set("allocations", static_cast<double>(m.allocations));
  return o;
}

Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  resnext::cuda::ResetPeak();
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  resnext::Status s = resnext::cuda::Synchronize();
  if (!s.ok()) resnext_napi::ThrowStatus(info.Env(), s);
  return info.Env().Undefined();
}

Napi::Value SynchronizeAsync(const Napi::CallbackInfo& info) {
  return WhenStreamDone(info.Env(), {}, nullptr, nullptr);
}

}  // namespace

void InitProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, Probe, "probe"));
  exports.Set("memory", Napi::Function::New(env, Memory, "memory"));
  exports.Set("resetPeakMemory", Napi::Function::New(env, ResetPeak, "resetPeakMemory"));
  exports.Set("synchronize", Napi::Function::New(env, Synchronize, "synchronize"));
  exports.Set("synchronizeAsync", Napi::Function::New(env, SynchronizeAsync, "synchronizeAsync"));
}

}  // namespace resnext_cuda_napi
