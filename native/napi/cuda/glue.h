// N-API glue of the CUDA addon (resnext_cuda.node): declarations shared by its
// files. Only this folder sees Node; native/cuda and native/cudnn take plain
// pointers and return resnext::Status.
#pragma once

#include <cuda_runtime_api.h>
#include <napi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cuda/dtype.h"

namespace resnext_cuda_napi {

// Per-environment state (napi instance data): the constructors of the addon's
// classes. Each JS environment (main thread, every worker_thread) that loads
// the addon gets its own; a process-global reference would be overwritten by
// the next environment and then used from the wrong isolate.
struct CudaAddonData {
  Napi::FunctionReference device_buffer;
  Napi::FunctionReference graph;
};
CudaAddonData& AddonData(Napi::Env env);

void InitProbe(Napi::Env env, Napi::Object exports);
void InitDeviceBuffer(Napi::Env env, Napi::Object exports);
void InitConvPlan(Napi::Env env, Napi::Object exports);
void InitModelOps(Napi::Env env, Napi::Object exports);
void InitGraph(Napi::Env env, Napi::Object exports);

// The device memory of a DeviceBuffer JS object (throws TypeError otherwise).
struct BufferView {
  void* ptr = nullptr;
  int64_t elements = 0;
  resnext::cuda::DType dtype = resnext::cuda::DType::kF32;
  Napi::Object object;
};
BufferView GetBuffer(const Napi::Value& v, const char* name);
// Same, null/undefined give a view with ptr == nullptr.
BufferView GetOptionalBuffer(const Napi::Value& v, const char* name);

// A promise settled once the work queued so far on the addon's stream is done,
// waited for on a libuv thread (the event loop keeps running). `host_copy`, when
// set, runs on that thread after the wait (a device-to-host copy); `done` runs
// back on the JS thread, also after a failure (it frees temporaries), and gives
// the resolution value. `pins` are kept alive
// until then.
Napi::Promise WhenStreamDone(Napi::Env env, std::vector<Napi::Value> pins, std::function<cudaError_t()> host_copy,
                             std::function<Napi::Value(Napi::Env)> done);

}  // namespace resnext_cuda_napi
