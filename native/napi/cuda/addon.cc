// Entry point of resnext_cuda.node. Registers the exports only: no CUDA call
// happens at load, so requiring the addon on a machine without the NVIDIA
// driver or GPU is silent and probe() reports why the GPU is unusable.
#include "glue.h"

namespace resnext_cuda_napi {

CudaAddonData& AddonData(Napi::Env env) { return *env.GetInstanceData<CudaAddonData>(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new CudaAddonData());
  InitProbe(env, exports);
  InitDeviceBuffer(env, exports);
  InitConvPlan(env, exports);
  InitModelOps(env, exports);
  InitGraph(env, exports);
  // 2: model ops, CUDA graphs, DeviceBuffer views.
  exports.Set("abiVersion", Napi::Number::New(env, 2));
  return exports;
}

}  // namespace resnext_cuda_napi

static Napi::Object InitResnextCuda(Napi::Env env, Napi::Object exports) {
  return resnext_cuda_napi::Init(env, exports);
}

NODE_API_MODULE(resnext_cuda, InitResnextCuda)
